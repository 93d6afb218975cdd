// The picture of an image's layers, an SVG drawn on the server: one bar per layer, in the
// manifest's order (the most popular store paths first, StableLayerGrouper), its length
// proportional to the layer's compressed bytes (the largest layer fills BarWidth; none is
// shorter than MinBar, so a tiny layer stays visible), blue when other images hold the same
// layer digest and grey when only this image does, labelled with its size, how many other
// images share it, and the store paths its history entry names.
//
// Accessible as an image (WAI-ARIA Graphics: role="img" with <title> and <desc> referenced by
// aria-labelledby), with a <title> per bar for pointer users; the page beside it has the same
// facts as a table. Every label goes through Html.Encode (SVG in HTML parses text like HTML).
// https://www.w3.org/TR/svg-aam-1.0/#details-id-66
using System.Globalization;
using System.Text;

namespace Nixery.Functions.Web;

/// <summary>One layer as the picture shows it.</summary>
/// <param name="Paths">What the layer holds, from its history entry (e.g. "store paths git-2.39, …").</param>
public sealed record LayerBar(int Index, string Digest, long Size, int SharedWith, string Paths);

public static class LayerPicture
{
    private const int Width = 960;
    private const int BarWidth = 420;
    private const int MinBar = 3;
    private const int Row = 40;
    private const string Shared = "#0b57d0";
    private const string Own = "#5a5a5a";

    public static string Svg(string image, IReadOnlyList<LayerBar> layers)
    {
        var largest = Math.Max(1, layers.Count == 0 ? 1 : layers.Max(l => l.Size));
        var total = layers.Sum(l => l.Size);
        var shared = layers.Count(l => l.SharedWith > 0);
        var svg = new StringBuilder();
        svg.Append("<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"layers\" role=\"img\" aria-labelledby=\"layers-title layers-desc\" width=\"").Append(Width)
            .Append("\" height=\"").Append(Num((layers.Count * Row) + 8)).Append("\" viewBox=\"0 0 ").Append(Width).Append(' ').Append(Num((layers.Count * Row) + 8))
            .Append("\" font-family=\"system-ui,sans-serif\" font-size=\"13\">\n")
            .Append("<title id=\"layers-title\">Layers of ").Append(Html.Encode(image)).Append("</title>\n")
            .Append("<desc id=\"layers-desc\">").Append(Html.Encode(
                $"{layers.Count} layers, {Html.Bytes(total)} in all; {shared} of them shared with other images (blue), {layers.Count - shared} held by this image only (grey). Bar length is the layer's compressed size."))
            .Append("</desc>\n");
        foreach (var layer in layers)
        {
            var y = (layer.Index * Row) + 4;
            var length = Math.Max(MinBar, (int)Math.Round((double)layer.Size / largest * BarWidth));
            var sharing = layer.SharedWith switch
            {
                0 => "this image only",
                1 => "shared with 1 other image",
                var n => $"shared with {n} other images",
            };
            var label = $"{Html.Bytes(layer.Size)}, {sharing}";
            svg.Append("<g class=\"layer\" data-digest=\"").Append(Html.Encode(layer.Digest)).Append("\" data-size=\"").Append(Num(layer.Size))
                .Append("\" data-shared-with=\"").Append(Num(layer.SharedWith)).Append("\">")
                .Append("<title>").Append(Html.Encode($"layer {layer.Index + 1}: {label}; {layer.Paths}")).Append("</title>")
                .Append("<rect x=\"0\" y=\"").Append(Num(y)).Append("\" width=\"").Append(Num(length)).Append("\" height=\"").Append(Num(Row - 12))
                .Append("\" rx=\"3\" fill=\"").Append(layer.SharedWith > 0 ? Shared : Own).Append("\"/>")
                .Append("<text x=\"").Append(Num(BarWidth + 12)).Append("\" y=\"").Append(Num(y + 12)).Append("\" fill=\"#1a1a1a\">")
                .Append(Html.Encode(label)).Append("</text>")
                .Append("<text x=\"").Append(Num(BarWidth + 12)).Append("\" y=\"").Append(Num(y + 26)).Append("\" fill=\"#5a5a5a\" font-size=\"11\">")
                .Append(Html.Encode(Shorten(layer.Paths, 80))).Append("</text></g>\n");
        }

        return svg.Append("</svg>\n").ToString();
    }

    private static string Shorten(string text, int max) => text.Length <= max ? text : string.Concat(text.AsSpan(0, max - 1), "…");

    private static string Num(long value) => value.ToString(CultureInfo.InvariantCulture);
}
