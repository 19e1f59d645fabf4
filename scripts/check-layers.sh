#!/bin/sh
# The layers of src/, checked: a file may include headers of its own folder and of the folders
# below it, never of one above or beside it. The order is src/README.md's table, kept here once:
# a folder missing from it, an include that names no folder, or an upward include fails the
# check with the file, the line and the rule it breaks.
#
#   check-layers.sh [DIR]    DIR is the source tree (default src)
#
# `make test` runs it on src/, and on tests/data/layers-bad/, a tree made to break each rule,
# where it must fail: so a check that has stopped working fails too.
set -u
dir=${1:-src}
# rank of each folder: lower layers first; folders of one rank may not include each other
rank() {
    case $1 in
    base) echo 0 ;;
    dsp) echo 1 ;;
    core) echo 2 ;;
    prompt) echo 3 ;;
    device | input | lookup) echo 4 ;;
    call) echo 5 ;;
    drivers | sip) echo 6 ;;
    tools) echo 7 ;;
    cli) echo 8 ;;
    *) echo -1 ;;
    esac
}
bad=0
for path in "$dir"/*/*.[ch] "$dir"/*.[ch]; do
    [ -e "$path" ] || continue
    rel=${path#"$dir"/}
    case $rel in
    */*) own=${rel%%/*} ;;
    *)
        echo "$path: a source file outside the layer folders: move it into the folder of its layer (see src/README.md)"
        bad=1
        continue
        ;;
    esac
    mine=$(rank "$own")
    if [ "$mine" -lt 0 ]; then
        echo "$path: folder '$own' is not a layer: add it to src/README.md and scripts/check-layers.sh, or move the file"
        bad=1
        continue
    fi
    # every quoted include, with its line number
    grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$path" |
        sed 's/^\([0-9]*\):[^"]*"\([^"]*\)".*/\1 \2/' >"${TMPDIR:-/tmp}/layers.$$"
    while read -r line inc; do
        case $inc in
        tonetree.h) continue ;; # the public header: every layer may use the public types
        */*) folder=${inc%%/*} ;;
        *)
            echo "$path:$line: #include \"$inc\" names no layer: write \"$own/$inc\" or the folder it is in"
            bad=1
            continue
            ;;
        esac
        [ "$folder" = "$own" ] && continue
        theirs=$(rank "$folder")
        if [ "$theirs" -lt 0 ]; then
            echo "$path:$line: #include \"$inc\": '$folder' is not a layer"
            bad=1
        elif [ "$theirs" -ge "$mine" ]; then
            echo "$path:$line: #include \"$inc\": $own (layer $mine) may not use $folder (layer $theirs); move what it needs down, or this code up"
            bad=1
        fi
    done <"${TMPDIR:-/tmp}/layers.$$"
    rm -f "${TMPDIR:-/tmp}/layers.$$"
done
exit $bad
