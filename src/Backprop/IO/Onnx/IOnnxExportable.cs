namespace Backprop.IO.Onnx;

/// <summary>
/// A module whose forward is not one the export walk knows (one that adds its submodules' outputs, slices
/// its own tables, …) describes its graph itself: it exports each submodule through
/// <see cref="OnnxExportContext.Module"/> (which applies the library's mapping, or the submodule's own hook)
/// and joins them with the context's ops. The export calls this instead of walking into the module.
/// </summary>
/// <example>
/// A model computing <c>head(blocks(tok(x) + positions))</c>:
/// <code>
/// public OnnxValue ExportOnnx(OnnxExportContext g, OnnxValue tokens)
/// {
///     OnnxValue x = g.Add(g.Module("tok_emb", TokenEmbedding, tokens), g.LearnedPositions("pos_emb", PositionEmbedding, tokens, dim: 1));
///     return g.Module("head", Head, g.Module("blocks", Blocks, x));
/// }
/// </code>
/// </example>
public interface IOnnxExportable
{
    /// <summary>Adds this module's forward (in evaluation mode) on <paramref name="input"/> to the graph; returns its output.</summary>
    /// <param name="context">The graph being built, positioned at this module (names are relative to it).</param>
    /// <param name="input">The module's input.</param>
    OnnxValue ExportOnnx(OnnxExportContext context, OnnxValue input);
}
