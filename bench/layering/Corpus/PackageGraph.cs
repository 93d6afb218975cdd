// The Debian index as Nix would see it: one store path per package, references for
// dependencies, and store-path identities that change the way Nix's do.
//
// Cycles: Debian allows them (libc6 ↔ libgcc-s1, perl ↔ perl-base, …); Nix references
// cannot form one between two paths built apart, so, as in nix/debian/generate, every
// strongly connected component becomes one node (QuikGraph's CondensateStronglyConnected):
// one store path holding all its members, named "a+b" (members sorted; long names cut at 80
// characters with "+N-more"), weighing the sum of their sizes, and depending on the union of
// their dependencies.
//
// Identity: a store path is /nix/store/<hash>-<name>, where the hash covers the node's name,
// its version, and the store paths of its dependencies, in that order — input addressing.
// So when a path changes (Update), every path that depends on it, directly or not, gets a
// new hash too, while its name stays: exactly what a Nix package-set update does to a
// closure. Nodes are numbered so that a node's dependencies have smaller numbers: in the
// reverse of QuikGraph's TopologicalSort of the condensed graph. Packages are added in name
// order and their dependencies in name order, and QuikGraph walks vertices and edges in the
// order they were added, so every run numbers the nodes alike.
using System.Security.Cryptography;
using System.Text;
using Nixery.Builder.Layers;
using Nixery.Builder.Nix;
using QuikGraph;
using QuikGraph.Algorithms;
using QuikGraph.Algorithms.Search;

namespace Nixery.Bench.Layering.Corpus;

/// <param name="Dependencies">Node numbers, all smaller than Id, sorted.</param>
public sealed record GraphNode(int Id, string Name, IReadOnlyList<string> Members, long Size, IReadOnlyList<int> Dependencies);

public sealed class PackageGraph
{
    private const int MaxName = 80;
    private readonly Dictionary<string, int> _nodeOfPackage;
    private readonly long[] _closureSize;

    private PackageGraph(IReadOnlyList<GraphNode> nodes, Dictionary<string, int> nodeOfPackage)
    {
        Nodes = nodes;
        _nodeOfPackage = nodeOfPackage;
        var edges = new BidirectionalGraph<int, SEquatableEdge<int>>(allowParallelEdges: false, nodes.Count);
        edges.AddVertexRange(nodes.Select(node => node.Id));
        foreach (var node in nodes)
        {
            edges.AddEdgeRange(node.Dependencies.Select(dependency => new SEquatableEdge<int>(node.Id, dependency)));
        }

        Edges = edges;
        _closureSize = new long[nodes.Count];
        Array.Fill(_closureSize, -1);
        StorePaths = Identities(new HashSet<int>(), "");
        Popularity = new Popularity(nodes.ToDictionary(n => n.Name, n => Edges.InDegree(n.Id), StringComparer.Ordinal));
    }

    public IReadOnlyList<GraphNode> Nodes { get; }

    /// <summary>An edge from each node to each node it depends on directly: in-edges are its direct dependents.</summary>
    public IBidirectionalGraph<int, SEquatableEdge<int>> Edges { get; }

    /// <summary>Node → its store path before any update.</summary>
    public IReadOnlyList<string> StorePaths { get; }

    /// <summary>Popularity as Nixery's popcount computes it: how many paths refer to each name directly.</summary>
    public Popularity Popularity { get; }

    public int NodeOf(string package) => _nodeOfPackage[package];

    public bool Contains(string package) => _nodeOfPackage.ContainsKey(package);

    public static PackageGraph Build(DebianIndex index)
    {
        var names = index.Packages.Keys.ToList(); // sorted
        var number = names.Select((n, i) => (n, i)).ToDictionary(x => x.n, x => x.i, StringComparer.Ordinal);
        var packages = new AdjacencyGraph<int, SEquatableEdge<int>>(allowParallelEdges: false, names.Count);
        packages.AddVertexRange(Enumerable.Range(0, names.Count));
        for (var p = 0; p < names.Count; p++)
        {
            packages.AddEdgeRange(index.Dependencies[names[p]].Select(d => new SEquatableEdge<int>(p, number[d])));
        }

        var condensed = packages.CondensateStronglyConnected<int, SEquatableEdge<int>, AdjacencyGraph<int, SEquatableEdge<int>>>();
        var components = condensed.TopologicalSort().Reverse().ToList(); // dependencies first
        var numberOf = new Dictionary<AdjacencyGraph<int, SEquatableEdge<int>>, int>(components.Count, ReferenceEqualityComparer.Instance);
        foreach (var component in components)
        {
            numberOf[component] = numberOf.Count;
        }

        var nodes = new List<GraphNode>(components.Count);
        var nodeOfPackage = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var c = 0; c < components.Count; c++)
        {
            var members = components[c].Vertices.Select(m => names[m]).Order(StringComparer.Ordinal).ToList();
            var dependencies = condensed.OutEdges(components[c]).Select(edge => numberOf[edge.Target]).Order().ToList();
            var size = members.Sum(m => index.Packages[m].Size);
            var name = members.Count == 1 ? $"{members[0]}-{index.Packages[members[0]].Version}" : JoinedName(members);
            nodes.Add(new GraphNode(c, StoreSafe(name), members, size, dependencies));
            foreach (var member in members)
            {
                nodeOfPackage[member] = c;
            }
        }

        return new PackageGraph(nodes, nodeOfPackage);
    }

    /// <summary>
    /// Store paths after the given nodes changed (a new version or a patch: their own input
    /// changes), so they and every node that depends on them get new hashes.
    /// </summary>
    public IReadOnlyList<string> Update(IReadOnlySet<int> changed, string generation) => Identities(changed, generation);

    /// <summary>The nodes the given ones need at run time, themselves included, sorted.</summary>
    public IReadOnlyList<int> Closure(IEnumerable<int> roots) =>
        [.. roots.SelectMany(root => Reachable(Edges, root)).Distinct().Order()];

    /// <summary>
    /// <paramref name="from"/> and every vertex it reaches, in no particular order: QuikGraph's
    /// ImplicitDepthFirstSearchAlgorithm, which colours only what it reaches, so a search costs
    /// the closure and not the 60,000 vertices of the corpus (DepthFirstSearchAlgorithm starts
    /// by colouring every vertex). It recurses once per level; the longest dependency chain of
    /// the Debian corpus is 37 nodes.
    /// </summary>
    public static ICollection<int> Reachable<TEdge>(IIncidenceGraph<int, TEdge> graph, int from)
        where TEdge : IEdge<int>
    {
        var search = new ImplicitDepthFirstSearchAlgorithm<int, TEdge>(graph);
        search.Compute(from);
        return search.VerticesColors.Keys;
    }

    public long ClosureSize(int node)
    {
        if (_closureSize[node] < 0)
        {
            _closureSize[node] = Reachable(Edges, node).Sum(n => Nodes[n].Size);
        }

        return _closureSize[node];
    }

    /// <summary>The runtime graph the builder would get from Nix for an image of these nodes.</summary>
    public RuntimeGraph RuntimeGraph(IReadOnlyList<int> closure, IReadOnlyList<string> storePaths) =>
        new([.. closure
            .Select(n => new StorePathInfo(
                storePaths[n],
                [storePaths[n], .. Nodes[n].Dependencies.Select(d => storePaths[d])],
                Nodes[n].Size,
                ClosureSize(n)))
            .OrderBy(p => p.Path, StringComparer.Ordinal)]);

    private string[] Identities(IReadOnlySet<int> changed, string generation)
    {
        var paths = new string[Nodes.Count];
        foreach (var node in Nodes) // dependencies first
        {
            var input = new StringBuilder(node.Name).Append('\n');
            if (changed.Contains(node.Id))
            {
                input.Append("changed in ").Append(generation).Append('\n');
            }

            foreach (var dependency in node.Dependencies)
            {
                input.Append(paths[dependency]).Append('\n');
            }

            paths[node.Id] = $"/nix/store/{NixBase32(SHA256.HashData(Encoding.UTF8.GetBytes(input.ToString())))}-{node.Name}";
        }

        return paths;
    }

    // 32 characters of Nix's base-32 alphabet (no e, o, u, t) from the first 20 bytes.
    private static string NixBase32(byte[] hash)
    {
        const string Alphabet = "0123456789abcdfghijklmnpqrsvwxyz";
        var chars = new char[32];
        for (var i = 0; i < 32; i++)
        {
            var bit = i * 5;
            var value = (hash[bit / 8] | (bit / 8 + 1 < hash.Length ? hash[bit / 8 + 1] << 8 : 0)) >> (bit % 8);
            chars[i] = Alphabet[value & 31];
        }

        return new string(chars);
    }

    private static string JoinedName(List<string> members)
    {
        var name = string.Join('+', members);
        if (name.Length <= MaxName)
        {
            return name;
        }

        var kept = new List<string>();
        foreach (var member in members)
        {
            if (string.Join('+', [.. kept, member]).Length > MaxName - 12)
            {
                break;
            }

            kept.Add(member);
        }

        return string.Join('+', kept) + $"+{members.Count - kept.Count}-more";
    }

    private static string StoreSafe(string name)
    {
        var safe = new string(name.Select(c => char.IsAsciiLetterOrDigit(c) || "+-._?=".Contains(c, StringComparison.Ordinal) ? c : '_').ToArray());
        return safe.Length > MaxName ? safe[..MaxName] : safe;
    }
}
