# Resolves the package names of one image request against a package set and says which
# derivations to build. The registry's worker (src/Builder/Nix/NixClient.cs) calls it so:
#
#   nix-instantiate --eval --strict --json --read-write-mode nix/prepare-image.nix \
#     --argstr packages '["bash","git"]' --argstr srcPath /path/to/pkgset --argstr system x86_64-linux
#
# and gets one of
#
#   { "error": "not_found", "pkgs": [ "nosuchpkg", "alsomissing" ] }      every missing name at once
#   { "drvs": [ "/nix/store/…-bash.drv", … ], "outs": [ "/nix/store/…-bash", … ], "names": [ "bash", … ] }
#
# Why this split rather than Nixery's single `nix-build` of a runtime-graph derivation:
# exportReferencesGraph needs a builder with coreutils (no nixpkgs here), and keeping Nix to
# evaluation lets the worker stream the build log, bound each step by a timeout, and read
# the graph afterwards with `nix path-info --json --recursive --closure-size <outs>`.
# --read-write-mode is required: forcing drvPath writes the .drv files into the store
# (Nix 2.8 evaluates read-only under --eval otherwise, and the drvs would not exist).
#
# Name resolution follows Nixery's deepFetch: `a.b.c` walks nested sets; when the
# case-sensitive walk fails, the top-level component is retried through a map of
# lower-cased attribute names (registry names are lower-case, package sets use
# camelCase: bashInteractive). Nested sets are not retried: their keys often differ
# only in case. A name that does not lead to a derivation counts as not found.
{ packages ? "[]"
, srcPath
, system ? "x86_64-linux"
}:
let
  inherit (builtins) attrNames filter fromJSON hasAttr isAttrs isFunction
    functionArgs intersectAttrs length listToAttrs map match replaceStrings split substring;

  source = import srcPath;
  # nixpkgs takes { system, … }; a small fixture set may take {} only.
  pkgs = if isFunction source then source (intersectAttrs (functionArgs source) { inherit system; }) else source;

  splitDots = s: filter (x: builtins.isString x) (split "\\." s);

  walk = set: path:
    if path == [ ] then { found = true; value = set; }
    else if isAttrs set && hasAttr (builtins.head path) set
    then walk set.${builtins.head path} (builtins.tail path)
    else { found = false; };

  # builtins has no toLower (nixpkgs' lib.toLower is replaceStrings over the alphabet).
  chars = s: builtins.genList (i: substring i 1 s) (builtins.stringLength s);
  upper = chars "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
  lower = chars "abcdefghijklmnopqrstuvwxyz";
  toLower = replaceStrings upper lower;
  hasUpper = s: match ".*[A-Z].*" s != null;
  lowercased = listToAttrs (map (k: { name = toLower k; value = k; }) (filter hasUpper (attrNames pkgs)));

  deepFetch = name:
    let
      path = splitDots name;
      direct = walk pkgs path;
      first = builtins.head path;
      amended = [ (if hasAttr first lowercased then lowercased.${first} else first) ] ++ builtins.tail path;
      result = if direct.found then direct else walk pkgs amended;
    in
    if result.found && isAttrs result.value && (result.value.type or "") == "derivation"
    then { inherit name; drv = result.value; }
    else { inherit name; error = "not_found"; };

  fetched = map deepFetch (fromJSON packages);
  errors = filter (r: r ? error) fetched;
  contents = filter (r: r ? drv) fetched;
in
if length errors > 0 then {
  error = "not_found";
  pkgs = map (r: r.name) errors;
} else {
  names = map (r: r.name) contents;
  drvs = map (r: r.drv.drvPath) contents;
  outs = map (r: r.drv.outPath) contents;
}
