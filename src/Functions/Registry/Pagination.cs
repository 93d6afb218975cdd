// The `n` and `last` query parameters of tags/list and _catalog (distribution-spec "Listing
// Tags"): the list is in ordinal ("ASCIIbetical") order; `last` starts the page after that
// value (not included); `n` caps its length, and when more follow the answer carries
// `Link: <…?n=…&last=…>; rel="next"`; `n=0` is an empty list without a Link. Without `n` a
// page holds at most MaxPage entries (then with a Link too, which the spec allows: fewer than
// asked only with a Link). A bad `n` is 400 PAGINATION_NUMBER_INVALID, the reference
// registry's code for it (distribution registry/api/errcode, ErrorCodePaginationNumberInvalid).
using System.Globalization;
using Nixery.Core.Errors;

namespace Nixery.Functions.Registry;

public sealed record Page(IReadOnlyList<string> Items, string? NextLink);

public static class Pagination
{
    /// <summary>Most entries one answer holds, whatever `n` asks for.</summary>
    public const int MaxPage = 1000;

    /// <summary>The page of <paramref name="sorted"/> the request asks for; the next page's
    /// link is <paramref name="path"/> with `n` and `last`.</summary>
    public static Page Of(IReadOnlyList<string> sorted, IQueryCollection query, string path)
    {
        var asked = query["n"].ToString();
        int? n = null;
        if (asked.Length > 0)
        {
            if (!int.TryParse(asked, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed))
            {
                throw new RegistryException(ErrorCode.PaginationNumberInvalid, $"invalid n '{RegistryPath.Shorten(asked)}': expected a number of entries from 0 up");
            }

            n = parsed;
        }

        var last = query["last"].ToString();
        var rest = last.Length == 0 ? sorted : [.. sorted.Where(s => string.CompareOrdinal(s, last) > 0)];
        if (n == 0)
        {
            return new Page([], null);
        }

        var size = Math.Min(n ?? MaxPage, MaxPage);
        if (rest.Count <= size)
        {
            return new Page(rest, null);
        }

        var items = rest.Take(size).ToList();
        return new Page(items, $"<{path}?n={size}&last={Uri.EscapeDataString(items[^1])}>; rel=\"next\"");
    }

    /// <summary>Writes the page's Link header, if any.</summary>
    public static void WriteLink(HttpResponse response, Page page)
    {
        if (page.NextLink is { } link)
        {
            response.Headers.Link = link;
        }
    }
}
