#!/usr/bin/env bash
# Reformats the whole tree with prettier as one commit of its own, so that the commit holds
# layout only and `git blame` can skip it.
#
#   scripts/format.sh            reformat, check, and leave the result uncommitted
#   scripts/format.sh --commit   ... and commit it, then record the commit in
#                                .git-blame-ignore-revs (a second, one-line commit)
#
# Run it on a clean tree (after every branch is merged): it refuses otherwise, so nothing but
# formatting ends up in the commit. Afterwards `npm run lint` (ESLint + prettier --check) passes
# and `.ci/run` stays green.
set -euo pipefail
cd "$(dirname "$0")/.."

commit=
case "${1:-}" in
  --commit) commit=1 ;;
  '') ;;
  *) echo "usage: scripts/format.sh [--commit]" >&2; exit 2 ;;
esac

if [ -n "$(git status --porcelain --untracked-files=no)" ]; then
  echo "format: the working tree has changes; commit or stash them first, so the formatting commit holds nothing else" >&2
  exit 1
fi

npm run --silent format > /dev/null
echo "format: $(git diff --name-only | wc -l) files reformatted"

# Layout only: the code must still type-check and lint exactly as before.
npm run --silent typecheck
npm run --silent lint

if [ -z "$commit" ]; then
  echo "format: left uncommitted; review with git diff, then: git commit -am 'Format the tree with prettier (layout only)'"
  exit 0
fi
if git diff --quiet; then
  echo "format: nothing to commit, the tree was already formatted"
  exit 0
fi
git commit -q -am "Format the tree with prettier (layout only: npm run format, no other change)"
rev=$(git rev-parse HEAD)
{
  [ -f .git-blame-ignore-revs ] || echo "# Layout-only commits; git blame --ignore-revs-file .git-blame-ignore-revs skips them."
  echo "$rev"
} >> .git-blame-ignore-revs
git add .git-blame-ignore-revs
git commit -q -m "git blame skips the prettier reformatting commit ($rev)"
echo "format: committed $rev and recorded it in .git-blame-ignore-revs (git config blame.ignoreRevsFile .git-blame-ignore-revs)"
