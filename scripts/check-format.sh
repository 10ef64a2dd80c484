#!/usr/bin/env bash
# Checks that every tracked C++ file is formatted as .clang-format says (clang-format from Debian's
# clang-format package, which scripts/setup.sh installs). Exit status: 0 formatted, 1 some file is not (each
# named, with the first lines clang-format would change), 2 no clang-format.
#   scripts/check-format.sh          check
#   scripts/check-format.sh --fix    format the files in place
set -euo pipefail
cd "$(dirname "$0")/.."
fix=false
case "${1:-}" in
  "") ;;
  --fix) fix=true ;;
  *) echo "usage: $0 [--fix]" >&2; exit 2 ;;
esac
format="$(command -v clang-format || true)"
if [ -z "$format" ]; then
  echo "check-format: clang-format not found (apt-get install clang-format, or scripts/setup.sh)" >&2
  exit 2
fi
mapfile -t files < <(git ls-files '*.h' '*.cpp' '*.cu' '*.cuh')
if $fix; then
  "$format" -i "${files[@]}"
  echo "check-format: formatted ${#files[@]} files with $("$format" --version)"
  exit 0
fi
unformatted=0
for file in "${files[@]}"; do
  if ! changes="$("$format" "$file" | diff -u "$file" - | head -12)"; then
    echo "check-format: $file is not formatted:"
    echo "$changes" | tail -n +3
    unformatted=$((unformatted + 1))
  fi
done
if ((unformatted)); then
  echo "check-format: $unformatted of ${#files[@]} files not formatted; scripts/check-format.sh --fix formats them" >&2
  exit 1
fi
echo "check-format: ${#files[@]} files formatted as .clang-format says ($("$format" --version))"
