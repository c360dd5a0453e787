using System.Globalization;
using System.Reflection;
using System.Text.RegularExpressions;
using Backprop.NN;
using Backprop.NN.Layers;
using Backprop.Optim;
using Backprop.Optim.Schedulers;
using Backprop.Tensors;
using Backprop.Tests.Optim.Fixtures;
using Module = Backprop.NN.Module;

namespace Backprop.Tests.Optim;

/// <summary>
/// Every default of the optimizers, schedulers, layers and functions Backprop mirrors, against the defaults
/// read from torch 1.13 (Fixtures/torch_defaults.py). A default that differs must be a row of docs/DEFAULTS.md,
/// and every row there must still differ; a torch keyword Backprop has no counterpart for is listed in
/// <see cref="NotApplicable"/> with the reason.
/// </summary>
public partial class TorchDefaultsTests
{
    /// <summary>No default: the argument is required.</summary>
    private sealed class RequiredArgument
    {
        public static readonly RequiredArgument Value = new();
    }

    private static Parameter P() => new(Tensor.Zeros([1]));

    /// <summary>The default of parameter <paramref name="name"/> of <paramref name="type"/>'s public constructors (or methods named <paramref name="method"/>); all overloads with a scalar parameter of that name must agree.</summary>
    private static object? Default(Type type, string name, string? method = null)
    {
        IEnumerable<MethodBase> candidates = method is null
            ? type.GetConstructors()
            : type.GetMethods(BindingFlags.Public | BindingFlags.Static | BindingFlags.Instance).Where(m => m.Name == method);
        var found = new List<object?>();
        foreach (MethodBase m in candidates)
            foreach (ParameterInfo p in m.GetParameters())
            {
                if (p.Name != name || !Scalar(p.ParameterType)) continue;
                object? v = !p.HasDefaultValue ? RequiredArgument.Value
                    : Nullable.GetUnderlyingType(p.ParameterType) is null && p.ParameterType.IsEnum && p.DefaultValue is not Enum
                        ? Enum.ToObject(p.ParameterType, p.DefaultValue!) : p.DefaultValue;
                found.Add(v);
            }
        Assert.True(found.Count > 0, $"{type.Name}{(method is null ? "" : "." + method)} has no parameter '{name}'");
        string first = Format(found[0]);
        Assert.True(found.All(v => Format(v) == first), $"{type.Name}{(method is null ? "" : "." + method)} overloads disagree on '{name}': {string.Join(", ", found.Select(Format))}");
        return found[0];
    }

    /// <summary>A parameter type compared here: anything but the (H, W) tuple overloads, whose defaults are the pair forms of the scalar ones.</summary>
    private static bool Scalar(Type t)
    {
        t = Nullable.GetUnderlyingType(t) ?? t;
        return !(t.IsGenericType && t.FullName!.StartsWith("System.ValueTuple", StringComparison.Ordinal));
    }

    /// <summary>A value in Python's repr conventions, numbers in round-trip form.</summary>
    private static string Format(object? v) => v switch
    {
        RequiredArgument => "required",
        null => "None",
        bool b => b ? "True" : "False",
        string s => $"'{s}'",
        Enum e => $"'{Snake(e.ToString())}'",
        IConvertible c => c.ToDouble(CultureInfo.InvariantCulture).ToString("R", CultureInfo.InvariantCulture),
        _ => v.ToString()!,
    };

    /// <summary>torch's text of a default in the same conventions.</summary>
    private static string FormatTorch(string python)
        => double.TryParse(python, NumberStyles.Float, CultureInfo.InvariantCulture, out double d)
            ? d.ToString("R", CultureInfo.InvariantCulture) : python;

    private static string Snake(string pascal) => CamelBoundary().Replace(pascal, "$1_$2").ToLowerInvariant();

    [GeneratedRegex("([a-z0-9])([A-Z])")]
    private static partial Regex CamelBoundary();

    /// <summary>A fixed behaviour that stands for a torch keyword Backprop does not take (its torch default is the only behaviour here).</summary>
    private static Func<object?> Fixed(object? value) => () => value;

    private static Func<object?> Ctor<T>(string name) => () => Default(typeof(T), name);

    /// <summary>A layer's (h, w) argument as PyTorch states its default: one int when both are equal.</summary>
    private static object Square(IntPair pair) => pair.H == pair.W ? pair.H : pair;

    private static Func<object?> Method(Type type, string method, string name) => () => Default(type, name, method);

    /// <summary>The same default on Rnn, Lstm and Gru.</summary>
    private static Func<object?> Recurrent(string name) => () =>
    {
        object? lstm = Default(typeof(Lstm), name);
        Assert.Equal(Format(lstm), Format(Default(typeof(Gru), name)));
        Assert.Equal(Format(lstm), Format(Default(typeof(Rnn), name)));
        return lstm;
    };

    /// <summary>torch key → the Backprop default it corresponds to.</summary>
    private static readonly Dictionary<string, Func<object?>> Map = new()
    {
        ["torch.optim.SGD:lr"] = () => new Sgd([P()]).Options.LearningRate,
        ["torch.optim.SGD:momentum"] = () => new Sgd([P()]).Options.Momentum,
        ["torch.optim.SGD:dampening"] = () => new Sgd([P()]).Options.Dampening,
        ["torch.optim.SGD:weight_decay"] = () => new Sgd([P()]).ParamGroups[0].WeightDecay,
        ["torch.optim.SGD:nesterov"] = () => new Sgd([P()]).Options.Nesterov,
        ["torch.optim.SGD:maximize"] = () => new Sgd([P()]).Options.Maximize,
        ["torch.optim.Adam:lr"] = () => new Adam([P()]).ParamGroups[0].LearningRate,
        ["torch.optim.Adam:betas.0"] = () => new Adam([P()]).Options.Beta1,
        ["torch.optim.Adam:betas.1"] = () => new Adam([P()]).Options.Beta2,
        ["torch.optim.Adam:eps"] = () => new Adam([P()]).Options.Eps,
        ["torch.optim.Adam:weight_decay"] = () => new Adam([P()], new AdamOptions(LearningRate: 3e-4)).ParamGroups[0].WeightDecay,
        ["torch.optim.Adam:amsgrad"] = () => new Adam([P()]).Options.Amsgrad,
        ["torch.optim.Adam:maximize"] = () => new Adam([P()]).Options.Maximize,
        ["torch.optim.AdamW:lr"] = () => new AdamW([P()]).ParamGroups[0].LearningRate,
        ["torch.optim.AdamW:betas.0"] = () => new AdamW([P()]).Options.Beta1,
        ["torch.optim.AdamW:betas.1"] = () => new AdamW([P()]).Options.Beta2,
        ["torch.optim.AdamW:eps"] = () => new AdamW([P()]).Options.Eps,
        ["torch.optim.AdamW:weight_decay"] = () => new AdamW([P()], new AdamOptions(LearningRate: 3e-4)).ParamGroups[0].WeightDecay,
        ["torch.optim.AdamW:amsgrad"] = () => new AdamW([P()]).Options.Amsgrad,
        ["torch.optim.AdamW:maximize"] = () => new AdamW([P()]).Options.Maximize,
        ["torch.optim.RMSprop:lr"] = () => new RmsProp([P()]).ParamGroups[0].LearningRate,
        ["torch.optim.RMSprop:alpha"] = () => new RmsProp([P()]).Options.Alpha,
        ["torch.optim.RMSprop:eps"] = () => new RmsProp([P()]).Options.Eps,
        ["torch.optim.RMSprop:weight_decay"] = () => new RmsProp([P()]).ParamGroups[0].WeightDecay,
        ["torch.optim.RMSprop:momentum"] = () => new RmsProp([P()]).Options.Momentum,
        ["torch.optim.RMSprop:centered"] = () => new RmsProp([P()]).Options.Centered,
        ["torch.optim.RMSprop:maximize"] = () => new RmsProp([P()]).Options.Maximize,
        ["torch.optim.Adagrad:lr"] = () => new Adagrad([P()]).ParamGroups[0].LearningRate,
        ["torch.optim.Adagrad:lr_decay"] = () => new Adagrad([P()]).Options.LearningRateDecay,
        ["torch.optim.Adagrad:weight_decay"] = () => new Adagrad([P()]).ParamGroups[0].WeightDecay,
        ["torch.optim.Adagrad:initial_accumulator_value"] = () => new Adagrad([P()]).Options.InitialAccumulatorValue,
        ["torch.optim.Adagrad:eps"] = () => new Adagrad([P()]).Options.Eps,
        ["torch.optim.Adagrad:maximize"] = () => new Adagrad([P()]).Options.Maximize,

        ["torch.optim.lr_scheduler.StepLR:step_size"] = Ctor<StepLR>("stepSize"),
        ["torch.optim.lr_scheduler.StepLR:gamma"] = Ctor<StepLR>("gamma"),
        ["torch.optim.lr_scheduler.MultiStepLR:milestones"] = Ctor<MultiStepLR>("milestones"),
        ["torch.optim.lr_scheduler.MultiStepLR:gamma"] = Ctor<MultiStepLR>("gamma"),
        ["torch.optim.lr_scheduler.ExponentialLR:gamma"] = Ctor<ExponentialLR>("gamma"),
        ["torch.optim.lr_scheduler.LambdaLR:lr_lambda"] = Ctor<LambdaLR>("lambda"),
        ["torch.optim.lr_scheduler.ConstantLR:factor"] = Ctor<ConstantLR>("factor"),
        ["torch.optim.lr_scheduler.ConstantLR:total_iters"] = Ctor<ConstantLR>("totalIters"),
        ["torch.optim.lr_scheduler.LinearLR:start_factor"] = Ctor<LinearLR>("startFactor"),
        ["torch.optim.lr_scheduler.LinearLR:end_factor"] = Ctor<LinearLR>("endFactor"),
        ["torch.optim.lr_scheduler.LinearLR:total_iters"] = Ctor<LinearLR>("totalIters"),
        ["torch.optim.lr_scheduler.CosineAnnealingLR:T_max"] = Ctor<CosineAnnealingLR>("tMax"),
        ["torch.optim.lr_scheduler.CosineAnnealingLR:eta_min"] = Ctor<CosineAnnealingLR>("etaMin"),
        ["torch.optim.lr_scheduler.SequentialLR:schedulers"] = Ctor<SequentialLR>("schedulers"),
        ["torch.optim.lr_scheduler.SequentialLR:milestones"] = Ctor<SequentialLR>("milestones"),
        ["torch.optim.lr_scheduler.ChainedScheduler:schedulers"] = Ctor<ChainedScheduler>("schedulers"),
        ["torch.optim.lr_scheduler.ReduceLROnPlateau:mode"] = Ctor<ReduceLROnPlateau>("mode"),
        ["torch.optim.lr_scheduler.ReduceLROnPlateau:factor"] = Ctor<ReduceLROnPlateau>("factor"),
        ["torch.optim.lr_scheduler.ReduceLROnPlateau:patience"] = Ctor<ReduceLROnPlateau>("patience"),
        ["torch.optim.lr_scheduler.ReduceLROnPlateau:threshold"] = Ctor<ReduceLROnPlateau>("threshold"),
        ["torch.optim.lr_scheduler.ReduceLROnPlateau:threshold_mode"] = Ctor<ReduceLROnPlateau>("thresholdMode"),
        ["torch.optim.lr_scheduler.ReduceLROnPlateau:cooldown"] = Ctor<ReduceLROnPlateau>("cooldown"),
        ["torch.optim.lr_scheduler.ReduceLROnPlateau:min_lr"] = Ctor<ReduceLROnPlateau>("minLr"),
        ["torch.optim.lr_scheduler.ReduceLROnPlateau:eps"] = Ctor<ReduceLROnPlateau>("eps"),
        ["torch.optim.lr_scheduler.OneCycleLR:max_lr"] = Ctor<OneCycleLR>("maxLr"),
        ["torch.optim.lr_scheduler.OneCycleLR:total_steps"] = Ctor<OneCycleLR>("totalSteps"),
        ["torch.optim.lr_scheduler.OneCycleLR:pct_start"] = Ctor<OneCycleLR>("pctStart"),
        ["torch.optim.lr_scheduler.OneCycleLR:anneal_strategy"] = Fixed("cos"),
        ["torch.optim.lr_scheduler.OneCycleLR:cycle_momentum"] = Ctor<OneCycleLR>("cycleMomentum"),
        ["torch.optim.lr_scheduler.OneCycleLR:base_momentum"] = Ctor<OneCycleLR>("baseMomentum"),
        ["torch.optim.lr_scheduler.OneCycleLR:max_momentum"] = Ctor<OneCycleLR>("maxMomentum"),
        ["torch.optim.lr_scheduler.OneCycleLR:div_factor"] = Ctor<OneCycleLR>("divFactor"),
        ["torch.optim.lr_scheduler.OneCycleLR:final_div_factor"] = Ctor<OneCycleLR>("finalDivFactor"),
        ["torch.optim.lr_scheduler.OneCycleLR:three_phase"] = Fixed(false),
        ["torch.optim.Optimizer.zero_grad:set_to_none"] = Method(typeof(Optimizer), "ZeroGrad", "setToNone"),
        ["torch.nn.Module.zero_grad:set_to_none"] = Method(typeof(Module), "ZeroGrad", "setToNone"),
        ["torch.nn.Module.train:mode"] = Method(typeof(Module), "Train", "training"),
        ["torch.nn.Module.load_state_dict:state_dict"] = Method(typeof(Module), "LoadStateDict", "state"),
        ["torch.nn.Module.load_state_dict:strict"] = Method(typeof(Module), "LoadStateDict", "strict"),
        ["torch.nn.Module.named_parameters:prefix"] = Method(typeof(Module), "NamedParameters", "prefix"),
        ["torch.nn.utils.clip_grad_norm_:parameters"] = Method(typeof(GradClip), "ClipGradNorm", "parameters"),
        ["torch.nn.utils.clip_grad_norm_:max_norm"] = Method(typeof(GradClip), "ClipGradNorm", "maxNorm"),
        ["torch.nn.utils.clip_grad_norm_:norm_type"] = Method(typeof(GradClip), "ClipGradNorm", "normType"),
        ["torch.nn.utils.clip_grad_norm_:error_if_nonfinite"] = Method(typeof(GradClip), "ClipGradNorm", "errorIfNonfinite"),

        ["torch.nn.Linear:in_features"] = Ctor<Linear>("inFeatures"),
        ["torch.nn.Linear:out_features"] = Ctor<Linear>("outFeatures"),
        ["torch.nn.Linear:bias"] = Ctor<Linear>("bias"),
        ["torch.nn.Conv2d:in_channels"] = Ctor<Conv2d>("inChannels"),
        ["torch.nn.Conv2d:out_channels"] = Ctor<Conv2d>("outChannels"),
        ["torch.nn.Conv2d:kernel_size"] = Ctor<Conv2d>("kernelSize"),
        ["torch.nn.Conv2d:stride"] = () => Square(new Conv2d(1, 1, 3).Stride),
        ["torch.nn.Conv2d:padding"] = () => Square(new Conv2d(1, 1, 3).Padding.Size),
        ["torch.nn.Conv2d:dilation"] = () => Square(new Conv2d(1, 1, 3).Dilation),
        ["torch.nn.Conv2d:groups"] = Ctor<Conv2d>("groups"),
        ["torch.nn.Conv2d:bias"] = Ctor<Conv2d>("bias"),
        ["torch.nn.Conv2d:padding_mode"] = Fixed("zeros"),
        ["torch.nn.BatchNorm1d:num_features"] = Ctor<BatchNorm1d>("numFeatures"),
        ["torch.nn.BatchNorm1d:eps"] = Ctor<BatchNorm1d>("eps"),
        ["torch.nn.BatchNorm1d:momentum"] = Ctor<BatchNorm1d>("momentum"),
        ["torch.nn.BatchNorm1d:affine"] = Ctor<BatchNorm1d>("affine"),
        ["torch.nn.BatchNorm1d:track_running_stats"] = Ctor<BatchNorm1d>("trackRunningStats"),
        ["torch.nn.BatchNorm2d:num_features"] = Ctor<BatchNorm2d>("numFeatures"),
        ["torch.nn.BatchNorm2d:eps"] = Ctor<BatchNorm2d>("eps"),
        ["torch.nn.BatchNorm2d:momentum"] = Ctor<BatchNorm2d>("momentum"),
        ["torch.nn.BatchNorm2d:affine"] = Ctor<BatchNorm2d>("affine"),
        ["torch.nn.BatchNorm2d:track_running_stats"] = Ctor<BatchNorm2d>("trackRunningStats"),
        ["torch.nn.LayerNorm:normalized_shape"] = Ctor<LayerNorm>("normalizedShape"),
        ["torch.nn.LayerNorm:eps"] = Ctor<LayerNorm>("eps"),
        ["torch.nn.LayerNorm:elementwise_affine"] = Ctor<LayerNorm>("elementwiseAffine"),
        ["torch.nn.Dropout:p"] = Ctor<Dropout>("p"),
        ["torch.nn.Embedding:num_embeddings"] = Ctor<Embedding>("numEmbeddings"),
        ["torch.nn.Embedding:embedding_dim"] = Ctor<Embedding>("embeddingDim"),
        ["torch.nn.Embedding:padding_idx"] = Ctor<Embedding>("paddingIdx"),
        ["torch.nn.Embedding:max_norm"] = Fixed(null),
        ["torch.nn.Embedding:scale_grad_by_freq"] = Fixed(false),
        ["torch.nn.Embedding:sparse"] = Fixed(false),
        ["torch.nn.LeakyReLU:negative_slope"] = Ctor<LeakyRelu>("negativeSlope"),
        ["torch.nn.GELU:approximate"] = Ctor<Gelu>("approximate"),
        ["torch.nn.Softplus:beta"] = Ctor<Softplus>("beta"),
        ["torch.nn.Softplus:threshold"] = Ctor<Softplus>("threshold"),
        ["torch.nn.MaxPool2d:kernel_size"] = Ctor<MaxPool2d>("kernelSize"),
        ["torch.nn.MaxPool2d:stride"] = Ctor<MaxPool2d>("stride"),
        ["torch.nn.MaxPool2d:padding"] = () => Square(new MaxPool2d(2).Padding),
        ["torch.nn.MaxPool2d:dilation"] = () => Square(new MaxPool2d(2).Dilation),
        ["torch.nn.MaxPool2d:return_indices"] = Fixed(false),
        ["torch.nn.MaxPool2d:ceil_mode"] = Ctor<MaxPool2d>("ceilMode"),
        ["torch.nn.AvgPool2d:kernel_size"] = Ctor<AvgPool2d>("kernelSize"),
        ["torch.nn.AvgPool2d:stride"] = Ctor<AvgPool2d>("stride"),
        ["torch.nn.AvgPool2d:padding"] = () => Square(new AvgPool2d(2).Padding),
        ["torch.nn.AvgPool2d:ceil_mode"] = Ctor<AvgPool2d>("ceilMode"),
        ["torch.nn.AvgPool2d:count_include_pad"] = Ctor<AvgPool2d>("countIncludePad"),
        ["torch.nn.AvgPool2d:divisor_override"] = Fixed(null),
        ["torch.nn.Flatten:start_dim"] = Ctor<Flatten>("startDim"),
        ["torch.nn.Flatten:end_dim"] = Ctor<Flatten>("endDim"),
        ["torch.nn.MultiheadAttention:embed_dim"] = Ctor<MultiheadAttention>("embedDim"),
        ["torch.nn.MultiheadAttention:num_heads"] = Ctor<MultiheadAttention>("numHeads"),
        ["torch.nn.MultiheadAttention:dropout"] = Ctor<MultiheadAttention>("dropout"),
        ["torch.nn.MultiheadAttention:bias"] = Ctor<MultiheadAttention>("bias"),
        ["torch.nn.MultiheadAttention:add_bias_kv"] = Ctor<MultiheadAttention>("addBiasKv"),
        ["torch.nn.MultiheadAttention:add_zero_attn"] = Ctor<MultiheadAttention>("addZeroAttn"),
        ["torch.nn.MultiheadAttention:kdim"] = Ctor<MultiheadAttention>("kdim"),
        ["torch.nn.MultiheadAttention:vdim"] = Ctor<MultiheadAttention>("vdim"),
        ["torch.nn.MultiheadAttention:batch_first"] = Ctor<MultiheadAttention>("batchFirst"),
        ["torch.nn.RNNBase:input_size"] = Recurrent("inputSize"),
        ["torch.nn.RNNBase:hidden_size"] = Recurrent("hiddenSize"),
        ["torch.nn.RNNBase:num_layers"] = Recurrent("numLayers"),
        ["torch.nn.RNNBase:bias"] = Recurrent("bias"),
        ["torch.nn.RNNBase:batch_first"] = Recurrent("batchFirst"),
        ["torch.nn.RNNBase:dropout"] = Recurrent("dropout"),
        ["torch.nn.RNNBase:bidirectional"] = Recurrent("bidirectional"),
        ["torch.nn.RNNBase:proj_size"] = Fixed(0),
        ["torch.nn.RNN:nonlinearity"] = Ctor<Rnn>("nonlinearity"),
        ["torch.nn.RNNCell:input_size"] = Ctor<RnnCell>("inputSize"),
        ["torch.nn.RNNCell:hidden_size"] = Ctor<RnnCell>("hiddenSize"),
        ["torch.nn.RNNCell:bias"] = Ctor<RnnCell>("bias"),
        ["torch.nn.RNNCell:nonlinearity"] = Ctor<RnnCell>("nonlinearity"),
        ["torch.nn.LSTMCell:input_size"] = Ctor<LstmCell>("inputSize"),
        ["torch.nn.LSTMCell:hidden_size"] = Ctor<LstmCell>("hiddenSize"),
        ["torch.nn.LSTMCell:bias"] = Ctor<LstmCell>("bias"),
        ["torch.nn.GRUCell:input_size"] = Ctor<GruCell>("inputSize"),
        ["torch.nn.GRUCell:hidden_size"] = Ctor<GruCell>("hiddenSize"),
        ["torch.nn.GRUCell:bias"] = Ctor<GruCell>("bias"),

        ["torch.nn.functional.dropout:input"] = Method(typeof(Functional), "Dropout", "input"),
        ["torch.nn.functional.dropout:p"] = Method(typeof(Functional), "Dropout", "p"),
        ["torch.nn.functional.dropout:training"] = Method(typeof(Functional), "Dropout", "training"),
        ["torch.nn.functional.leaky_relu:input"] = Method(typeof(Functional), "LeakyRelu", "x"),
        ["torch.nn.functional.leaky_relu:negative_slope"] = Method(typeof(Functional), "LeakyRelu", "negativeSlope"),
        ["torch.nn.functional.gumbel_softmax:logits"] = Method(typeof(Functional), "GumbelSoftmax", "logits"),
        ["torch.nn.functional.gumbel_softmax:tau"] = Method(typeof(Functional), "GumbelSoftmax", "tau"),
        ["torch.nn.functional.gumbel_softmax:hard"] = Method(typeof(Functional), "GumbelSoftmax", "hard"),
        ["torch.nn.functional.gumbel_softmax:dim"] = Method(typeof(Functional), "GumbelSoftmax", "dim"),
        ["torch.nn.functional.cross_entropy:input"] = Method(typeof(Functional), "CrossEntropy", "input"),
        ["torch.nn.functional.cross_entropy:target"] = Method(typeof(Functional), "CrossEntropy", "target"),
        ["torch.nn.functional.cross_entropy:weight"] = Method(typeof(Functional), "CrossEntropy", "weight"),
        ["torch.nn.functional.cross_entropy:ignore_index"] = Method(typeof(Functional), "CrossEntropy", "ignoreIndex"),
        ["torch.nn.functional.cross_entropy:reduction"] = Method(typeof(Functional), "CrossEntropy", "reduction"),
        ["torch.nn.functional.cross_entropy:label_smoothing"] = Method(typeof(Functional), "CrossEntropy", "labelSmoothing"),
        ["torch.nn.functional.nll_loss:input"] = Method(typeof(Functional), "NllLoss", "input"),
        ["torch.nn.functional.nll_loss:target"] = Method(typeof(Functional), "NllLoss", "target"),
        ["torch.nn.functional.nll_loss:weight"] = Method(typeof(Functional), "NllLoss", "weight"),
        ["torch.nn.functional.nll_loss:ignore_index"] = Method(typeof(Functional), "NllLoss", "ignoreIndex"),
        ["torch.nn.functional.nll_loss:reduction"] = Method(typeof(Functional), "NllLoss", "reduction"),
        ["torch.nn.functional.mse_loss:input"] = Method(typeof(Functional), "MseLoss", "input"),
        ["torch.nn.functional.mse_loss:target"] = Method(typeof(Functional), "MseLoss", "target"),
        ["torch.nn.functional.mse_loss:reduction"] = Method(typeof(Functional), "MseLoss", "reduction"),
        ["torch.nn.functional.binary_cross_entropy_with_logits:input"] = Method(typeof(Functional), "BinaryCrossEntropyWithLogits", "input"),
        ["torch.nn.functional.binary_cross_entropy_with_logits:target"] = Method(typeof(Functional), "BinaryCrossEntropyWithLogits", "target"),
        ["torch.nn.functional.binary_cross_entropy_with_logits:reduction"] = Method(typeof(Functional), "BinaryCrossEntropyWithLogits", "reduction"),
        ["torch.nn.functional.binary_cross_entropy_with_logits:pos_weight"] = Method(typeof(Functional), "BinaryCrossEntropyWithLogits", "posWeight"),
        ["torch.nn.functional.layer_norm:input"] = Method(typeof(Functional), "LayerNorm", "input"),
        ["torch.nn.functional.layer_norm:normalized_shape"] = Method(typeof(Functional), "LayerNorm", "normalizedShape"),
        ["torch.nn.functional.layer_norm:weight"] = Method(typeof(Functional), "LayerNorm", "weight"),
        ["torch.nn.functional.layer_norm:bias"] = Method(typeof(Functional), "LayerNorm", "bias"),
        ["torch.nn.functional.layer_norm:eps"] = Method(typeof(Functional), "LayerNorm", "eps"),
        ["torch.nn.functional.batch_norm:input"] = Method(typeof(Functional), "BatchNorm", "input"),
        ["torch.nn.functional.batch_norm:running_mean"] = Method(typeof(Functional), "BatchNorm", "runningMean"),
        ["torch.nn.functional.batch_norm:running_var"] = Method(typeof(Functional), "BatchNorm", "runningVar"),
        ["torch.nn.functional.batch_norm:weight"] = Method(typeof(Functional), "BatchNorm", "weight"),
        ["torch.nn.functional.batch_norm:bias"] = Method(typeof(Functional), "BatchNorm", "bias"),
        ["torch.nn.functional.batch_norm:training"] = Method(typeof(Functional), "BatchNorm", "training"),
        ["torch.nn.functional.batch_norm:momentum"] = Method(typeof(Functional), "BatchNorm", "momentum"),
        ["torch.nn.functional.batch_norm:eps"] = Method(typeof(Functional), "BatchNorm", "eps"),
        ["torch.nn.functional.embedding:input"] = Method(typeof(Functional), "Embedding", "indices"),
        ["torch.nn.functional.embedding:weight"] = Method(typeof(Functional), "Embedding", "weight"),
        ["torch.nn.functional.embedding:padding_idx"] = Method(typeof(Functional), "Embedding", "paddingIdx"),
        ["torch.nn.functional.embedding:max_norm"] = Fixed(null),
        ["torch.nn.functional.embedding:scale_grad_by_freq"] = Fixed(false),
        ["torch.nn.functional.embedding:sparse"] = Fixed(false),
        ["torch.nn.init.calculate_gain:nonlinearity"] = Method(typeof(Init), "Gain", "nonlinearity"),
        ["torch.nn.init.xavier_uniform_:tensor"] = Method(typeof(Init), "XavierUniform", "shape"),
        ["torch.nn.init.xavier_uniform_:gain"] = Method(typeof(Init), "XavierUniform", "gain"),
        ["torch.nn.init.xavier_normal_:tensor"] = Method(typeof(Init), "XavierNormal", "shape"),
        ["torch.nn.init.xavier_normal_:gain"] = Method(typeof(Init), "XavierNormal", "gain"),
        ["torch.nn.init.kaiming_uniform_:tensor"] = Method(typeof(Init), "KaimingUniform", "shape"),
        ["torch.nn.init.kaiming_uniform_:a"] = Method(typeof(Init), "KaimingUniform", "a"),
        ["torch.nn.init.kaiming_uniform_:mode"] = Method(typeof(Init), "KaimingUniform", "mode"),
        ["torch.nn.init.kaiming_uniform_:nonlinearity"] = Method(typeof(Init), "KaimingUniform", "nonlinearity"),
        ["torch.nn.init.kaiming_normal_:tensor"] = Method(typeof(Init), "KaimingNormal", "shape"),
        ["torch.nn.init.kaiming_normal_:a"] = Method(typeof(Init), "KaimingNormal", "a"),
        ["torch.nn.init.kaiming_normal_:mode"] = Method(typeof(Init), "KaimingNormal", "mode"),
        ["torch.nn.init.kaiming_normal_:nonlinearity"] = Method(typeof(Init), "KaimingNormal", "nonlinearity"),
        ["torch.nn.init.orthogonal_:tensor"] = Method(typeof(Init), "Orthogonal", "shape"),
        ["torch.nn.init.orthogonal_:gain"] = Method(typeof(Init), "Orthogonal", "gain"),
    };

    /// <summary>torch keywords without a counterpart here, by keyword name or full key, with the reason.</summary>
    private static readonly Dictionary<string, string> NotApplicable = new()
    {
        ["foreach"] = "PyTorch's choice of kernel implementation; there is one kernel here",
        ["fused"] = "PyTorch's choice of kernel implementation; there is one kernel here",
        ["capturable"] = "CUDA graph capture; CPU only here",
        ["differentiable"] = "differentiating through the optimizer step is not supported",
        ["last_epoch"] = "resume by SetStepCount (or the Trainer's checkpoint), not a constructor argument",
        ["verbose"] = "schedulers print nothing; read LastLearningRates()",
        ["inplace"] = "no in-place variants of layers and functions",
        ["size_average"] = "deprecated in PyTorch in favour of reduction",
        ["reduce"] = "deprecated in PyTorch in favour of reduction",
        ["torch.nn.Module.named_parameters:recurse"] = "always recursive; a child's own NamedParameters() lists its members alone",
        ["torch.nn.RNNBase:mode"] = "internal to PyTorch's RNNBase; here one class per cell kind",
        ["torch.nn.Embedding:norm_type"] = "only used with max_norm, which is not supported",
        ["torch.nn.functional.embedding:norm_type"] = "only used with max_norm, which is not supported",
        ["torch.nn.functional.gumbel_softmax:eps"] = "deprecated and unused in PyTorch",
        ["torch.nn.functional.binary_cross_entropy_with_logits:weight"] = "per-element weights are not supported; multiply the unreduced loss",
        ["torch.nn.init.calculate_gain:param"] = "PyTorch's None means a 0.01 slope for leaky_relu; Init.Gain's negativeSlope defaults to that 0.01",
        ["torch.optim.lr_scheduler.OneCycleLR:epochs"] = "PyTorch's alternative to total_steps (epochs × steps_per_epoch); pass their product as totalSteps",
        ["torch.optim.lr_scheduler.OneCycleLR:steps_per_epoch"] = "PyTorch's alternative to total_steps (epochs × steps_per_epoch); pass their product as totalSteps",
    };

    /// <summary>The keys of the table in docs/DEFAULTS.md: first cells in backticks, "`torch...:keyword`".</summary>
    private static HashSet<string> DocumentedDifferences()
    {
        string root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "Backprop.slnx"))) root = Path.GetDirectoryName(root)!;
        var keys = new HashSet<string>();
        foreach (string line in File.ReadLines(Path.Combine(root, "docs", "DEFAULTS.md")))
            if (TableKey().Match(line) is { Success: true } m) keys.Add(m.Groups[1].Value);
        return keys;
    }

    [GeneratedRegex(@"^\|\s*`(torch\.[^`]+:[^`]+)`\s*\|")]
    private static partial Regex TableKey();

    [Fact]
    public void EveryTorchDefault_IsMatchedOrDocumented()
    {
        HashSet<string> documented = DocumentedDifferences();
        var problems = new List<string>();
        var differing = new HashSet<string>();
        foreach (var (key, torch) in TorchDefaults.All)
        {
            string keyword = key[(key.IndexOf(':') + 1)..];
            if (NotApplicable.ContainsKey(key) || NotApplicable.ContainsKey(keyword))
            {
                Assert.False(Map.ContainsKey(key), $"{key} is both mapped and not applicable");
                continue;
            }
            if (!Map.TryGetValue(key, out var ours))
            {
                problems.Add($"{key}: torch default {torch} has no counterpart in the test's map");
                continue;
            }
            string expected = FormatTorch(torch), actual = Format(ours());
            if (expected == actual) continue;
            differing.Add(key);
            if (!documented.Contains(key)) problems.Add($"{key}: torch {torch}, Backprop {actual}, and docs/DEFAULTS.md does not say why");
        }
        foreach (string key in documented)
            if (!differing.Contains(key)) problems.Add($"docs/DEFAULTS.md lists {key}, which no longer differs from torch (or is not a torch default)");
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public void EveryMappedKey_IsATorchDefault()
    {
        var keys = TorchDefaults.All.Select(r => r.Key).ToHashSet();
        Assert.Equal([], Map.Keys.Where(k => !keys.Contains(k)).ToArray());
        Assert.Equal([], NotApplicable.Keys.Where(k => k.Contains(':') && !keys.Contains(k)).ToArray());
    }

    /// <summary>The trap of issue #12: AdamW's weight decay is 0.01 whichever constructor and options are used, unless given.</summary>
    [Fact]
    public void AdamW_WeightDecay_IsTorchsDefault_WhicheverConstructor()
    {
        Parameter p = P();
        Assert.Equal(0.01, new AdamW([p]).ParamGroups[0].WeightDecay);
        Assert.Equal(0.01, new AdamW([p], new AdamOptions()).ParamGroups[0].WeightDecay);
        Assert.Equal(0.01, new AdamW([p], new AdamOptions(LearningRate: 3e-4)).ParamGroups[0].WeightDecay);
        Assert.Equal(0.01, new AdamW([new ParamGroup([p])], new AdamOptions(LearningRate: 3e-4)).ParamGroups[0].WeightDecay);
        Assert.Equal(0.01, new AdamW([p], new AdamOptions(LearningRate: 3e-4)).Options.WeightDecay);
        Assert.Equal(0.5, new AdamW([new ParamGroup([p], weightDecay: 0.5)]).ParamGroups[0].WeightDecay);
        Assert.Equal(0.0, new AdamW([p], new AdamOptions(WeightDecay: 0)).ParamGroups[0].WeightDecay); // an explicit 0 stays 0
        Assert.Equal(0.0, new Adam([p], new AdamOptions(LearningRate: 3e-4)).ParamGroups[0].WeightDecay);
        Assert.Equal(0.0, new Adam([p]).Options.WeightDecay);
    }

    /// <summary>AdamW with options that leave the weight decay unset decays exactly as with 0.01 given.</summary>
    [Fact]
    public void AdamW_DefaultWeightDecay_Decays()
    {
        Parameter a = new(Tensor.FromArray(new[] { 1.0, -2.0 })), b = new(Tensor.FromArray(new[] { 1.0, -2.0 }));
        var unset = new AdamW([a], new AdamOptions(LearningRate: 0.1));
        var given = new AdamW([b], new AdamOptions(LearningRate: 0.1, WeightDecay: 0.01));
        for (int i = 0; i < 3; i++)
        {
            a.Grad = Tensor.FromArray(new[] { 0.5, 0.25 });
            b.Grad = Tensor.FromArray(new[] { 0.5, 0.25 });
            unset.Step();
            given.Step();
        }
        Assert.Equal(b.Data.ToDoubleArray(), a.Data.ToDoubleArray());
    }
}
