# The attribute index of a package set (issue 13: names that cannot build are refused before a
# job is queued), evaluated by the worker once per source revision (PackageIndexPublisher):
#
#   nix-instantiate --eval --strict --json nix/package-index.nix \
#     --argstr srcPath /path/to/pkgset --argstr system x86_64-linux [--argstr details 0]
#
# → [ { "name": "bash", "version": "5.2.15-2+b8", "description": null }, … ]
#
# Every top-level attribute name counts, derivation or not: a nested set (`debian`,
# nixpkgs' `python3Packages`) is the first part of dotted image names, and a name that is
# listed but does not build still fails in the worker as before. Refusing is the costly
# mistake, so the index errs on the side of listing. version and description are read only
# where cheap — the attribute's own `version`, else the version part of its `name`, and
# `meta.description` — each under tryEval, so an attribute that throws (nixpkgs' aliases,
# broken or unfree packages) is listed with nulls rather than failing the whole index.
# `details = "0"` lists names only: what the worker falls back to when a large set's details
# do not evaluate within NIX_TIMEOUT (names alone are attrNames: no attribute is forced).
{ srcPath
, system ? "x86_64-linux"
, details ? "1"
}:
let
  inherit (builtins) attrNames functionArgs intersectAttrs isAttrs isFunction isString map parseDrvName tryEval;
  source = import srcPath;
  pkgs = if isFunction source then source (intersectAttrs (functionArgs source) { inherit system; }) else source;
  text = v: let r = tryEval (if isString v then v else null); in if r.success then r.value else null;
  entry = name:
    let
      value = tryEval pkgs.${name};
      v = if value.success && isAttrs value.value then value.value else { };
      version = text (v.version or (if v ? name && isString v.name then (parseDrvName v.name).version else null));
    in
    if details == "0" then { inherit name; version = null; description = null; }
    else { inherit name; version = if version == "" then null else version; description = text ((v.meta or { }).description or null); };
in
map entry (attrNames pkgs)
