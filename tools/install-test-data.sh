#!/usr/bin/env bash
# Installs the Debian packages with the real data the tests read, when missing: Fashion-MNIST (IDX files) and
# scikit-learn's small CSV files (iris, wine, breast cancer, digits, ...), shipped in python3-sklearn
# (--no-install-recommends keeps it to its libraries), python3-onnx, whose onnx.checker the ONNX export test runs on every
# exported model (tests/.../IO/Onnx/OnnxCheckerTests.cs fails without it), and ONNX's node tests (libonnx-testdata), which the
# ONNX import conformance test runs. Uses sudo when not root; warns and goes on if apt fails.
packages=""
[ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] || packages="$packages dataset-fashion-mnist"
[ -f /usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz ] || packages="$packages python3-sklearn"
/usr/bin/python3 -c "import onnx" 2>/dev/null || packages="$packages python3-onnx"
[ -f /usr/share/libonnx-testdata/data/node/test_relu/model.onnx ] || packages="$packages libonnx-testdata"
if [ -n "$packages" ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  echo "installing test data:$packages" >&2
  $SUDO apt-get update -qq || true
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $packages || echo "warning: could not install$packages" >&2
fi
exit 0
