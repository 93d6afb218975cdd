// The Nix client's JSON parsing is internal; its tests read it directly.
using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("Nixery.Builder.Tests")]
