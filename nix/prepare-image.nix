# Resolves the package names of one image request against a package set and says which
# derivations to build. The registry's worker (src/Builder/Nix/NixClient.cs) calls it so:
#
#   nix-instantiate --eval --strict --json --read-write-mode nix/prepare-image.nix \
#     --argstr packages '["bash","git"]' --argstr srcPath /path/to/pkgset --argstr system x86_64-linux
#
# and gets one of
#
#   { "error": "not_found", "pkgs": [ "nosuchpkg", "alsomissing" ] }      every missing name at once
#   { "drvs": [ "/nix/store/…-bash.drv", … ], "outs": [ "/nix/store/…-bash", … ], "names": [ "bash", … ],
#     "licenses": { "/nix/store/…-bash": [ { "spdxId": "GPL-3.0-or-later", "name": "GPL-3+" } ], … } }
#
# Why this split rather than Nixery's single `nix-build` of a runtime-graph derivation:
# exportReferencesGraph needs a builder with coreutils (no nixpkgs here), and keeping Nix to
# evaluation lets the worker stream the build log, bound each step by a timeout, and read
# the graph afterwards with `nix path-info --json --recursive --closure-size <outs>`.
# --read-write-mode is required: forcing drvPath writes the .drv files into the store
# (Nix 2.8 evaluates read-only under --eval otherwise, and the drvs would not exist).
#
# Name resolution: the whole name is tried as one attribute first, because attribute names
# may hold dots (`python3.11`, `libbz2-1.0`); then, as Nixery's deepFetch does, `a.b.c` walks
# nested sets. Each of the two is tried case-sensitively, then with its first attribute
# looked up through a map of lower-cased attribute names (registry names are lower-case,
# package sets use camelCase: bashInteractive). Nested sets are not retried: their keys often
# differ only in case. A name that does not lead to a derivation counts as not found.
#
# Licences: the meta.license of the requested derivations and of every derivation reachable
# from them through `deps` (the offline Debian set), `buildInputs` and `propagatedBuildInputs`
# (nixpkgs), keyed by each of their output paths, for the image's SBOM. A licence is an SPDX
# id where the set gives one (nixpkgs' lib.licenses.*.spdxId) and a name otherwise. A
# derivation whose inputs or meta fail to evaluate adds nothing.
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

  isDrv = v: isAttrs v && (v.type or "") == "derivation";

  # The path as given, then with its first attribute's case repaired.
  walkEither = path:
    let
      direct = walk pkgs path;
      first = builtins.head path;
      amended = [ (if hasAttr first lowercased then lowercased.${first} else first) ] ++ builtins.tail path;
    in
    if direct.found then direct else walk pkgs amended;

  deepFetch = name:
    let
      whole = walkEither [ name ];
      dotted = walkEither (splitDots name);
      result = if whole.found && isDrv whole.value then whole else dotted;
    in
    if result.found && isDrv result.value
    then { inherit name; drv = result.value; }
    else { inherit name; error = "not_found"; };

  inherit (builtins) tryEval deepSeq genericClosure concatMap;
  safely = v: fallback: let r = tryEval (deepSeq v v); in if r.success then r.value else fallback;
  inputsOf = drv: safely (filter isDrv ((drv.deps or [ ]) ++ (drv.buildInputs or [ ]) ++ (drv.propagatedBuildInputs or [ ]))) [ ];
  licenseOf = drv:
    let
      l = drv.meta.license or [ ];
      ls = if builtins.isList l then l else [ l ];
      one = x: if isAttrs x then { spdxId = x.spdxId or null; name = x.shortName or x.fullName or x.spdxId or null; } else { spdxId = null; name = toString x; };
    in
    safely (map one ls) [ ];
  outPathsOf = drv: safely (map (o: drv.${o}.outPath) (drv.outputs or [ "out" ])) [ ];
  keyOf = drv: safely drv.outPath null;
  walked = genericClosure {
    startSet = filter (e: e.key != null) (map (r: { key = keyOf r.drv; drv = r.drv; }) contents);
    operator = item: filter (e: e.key != null) (map (d: { key = keyOf d; drv = d; }) (inputsOf item.drv));
  };
  licenses = listToAttrs (concatMap
    (item: let ls = licenseOf item.drv; in if ls == [ ] then [ ] else map (p: { name = builtins.unsafeDiscardStringContext p; value = ls; }) (outPathsOf item.drv))
    walked);

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
  inherit licenses;
}
