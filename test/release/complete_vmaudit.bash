#!/usr/bin/env bash
# Complete a vmaudit command line the way readline would, without a
# terminal: load bash-completion, let its loader find vmaudit's script in the
# standard folder, call the function it registered with COMP_WORDS and
# COMP_CWORD set, and print COMPREPLY one word a line.
#   bash complete_vmaudit.bash scan --for    # completes the last word
set -euo pipefail
# shellcheck source=/dev/null
source /usr/share/bash-completion/bash_completion
# 124 means "found and loaded, try again", as readline expects.
_completion_loader vmaudit || [[ $? -eq 124 ]]
spec=$(complete -p vmaudit)
fn=$(sed -n 's/.*-F \([^ ]*\) .*/\1/p' <<<"$spec")
COMP_WORDS=(vmaudit "$@")
COMP_CWORD=$#
COMP_LINE="vmaudit $*"
COMP_POINT=${#COMP_LINE}
prev=vmaudit
if [[ $# -ge 2 ]]; then prev=${COMP_WORDS[$# - 1]}; fi
COMPREPLY=()
"$fn" vmaudit "${COMP_WORDS[$#]}" "$prev"
printf '%s\n' "${COMPREPLY[@]}"
