# Lists the top-level derivations of a package set, for the worker host's `popularity`
# command (src/Builder/Popularity/PopularityCommand.cs) when no binary cache is given:
#
#   nix-instantiate --eval --strict --json --read-write-mode nix/list-packages.nix \
#     --argstr srcPath /path/to/pkgset --argstr system x86_64-linux
#
# → [ { "attr": "bash", "drv": "/nix/store/…-bash.drv", "out": "/nix/store/…-bash" }, … ]
#
# Only the set's own top-level attributes that are derivations count (nested sets such as
# `debian` are not walked: their members are also top-level here, and nixpkgs' nested sets
# are too big to force). An attribute that fails to evaluate is left out, as popcount does.
# --read-write-mode writes the .drv files so that they can be realised afterwards.
{ srcPath
, system ? "x86_64-linux"
}:
let
  inherit (builtins) attrNames filter functionArgs intersectAttrs isAttrs isFunction map tryEval;
  source = import srcPath;
  pkgs = if isFunction source then source (intersectAttrs (functionArgs source) { inherit system; }) else source;
  entry = attr:
    let
      value = tryEval pkgs.${attr};
      isDrv = value.success && isAttrs value.value && (value.value.type or "") == "derivation";
      paths = if isDrv then tryEval { drv = value.value.drvPath; out = value.value.outPath; } else { success = false; };
      forced = if paths.success then tryEval (builtins.deepSeq paths.value paths.value) else { success = false; };
    in
    if forced.success then { inherit attr; inherit (forced.value) drv out; } else null;
in
filter (e: e != null) (map entry (attrNames pkgs))
