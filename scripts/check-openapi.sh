#!/usr/bin/env bash
# Checks an OpenAPI document (default: the committed openapi/openapi.json) with two validators
# that client generators and docs tools agree with:
#   - redocly lint, recommended ruleset (see redocly.yaml), stylish output;
#   - openapi-spec-validator, every validation error.
# Prints each tool's counts and exits non-zero on any error from either; warnings are shown
# but do not fail. The tools are installed once, at pinned versions, under
# $NEWSDESK_TOOLS (default /var/tmp/newsdesk-tools), and reused by later runs.
#
#   scripts/check-openapi.sh [SPEC]
set -euo pipefail

REDOCLY_VERSION=2.77.0
VALIDATOR_VERSION=0.9.0
# openapi-spec-validator's dependencies at the versions it was checked with, so a new release
# of one of them cannot change the verdict on an unchanged document.
VALIDATOR_DEPS=(
  annotated-types==0.8.0 attrs==26.1.0 jsonschema==4.26.0 jsonschema-path==0.5.0
  jsonschema-specifications==2025.9.1 lazy-object-proxy==1.13.0 openapi-schema-validator==0.9.0
  pathable==0.6.0 pydantic==2.14.4 pydantic-settings==2.16.3 pydantic_core==2.50.5
  python-dotenv==1.2.4 PyYAML==6.0.4 referencing==0.37.0 rfc3339-validator==0.1.4
  rpds-py==2026.9.1 six==1.17.0 typing-inspection==0.4.5 typing_extensions==4.16.0
)

root=$(cd "$(dirname "$0")/.." && pwd)
spec=$(realpath "${1:-$root/openapi/openapi.json}")
tools=${NEWSDESK_TOOLS:-/var/tmp/newsdesk-tools}
redocly_dir=$tools/redocly-$REDOCLY_VERSION
venv=$tools/openapi-spec-validator-$VALIDATOR_VERSION
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# Redocly would otherwise report usage and look for newer releases on every run.
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true

for tool in node npm python3; do
  command -v "$tool" >/dev/null || { echo "check-openapi: $tool is needed" >&2; exit 1; }
done
[[ -f $spec ]] || { echo "check-openapi: no such file: $spec" >&2; exit 1; }
mkdir -p "$tools"

redocly=$redocly_dir/node_modules/.bin/redocly
if [[ ! -x $redocly ]] || [[ $("$redocly" --version 2>/dev/null | head -n 1) != "$REDOCLY_VERSION" ]]; then
  echo "==> installing @redocly/cli $REDOCLY_VERSION into $redocly_dir"
  rm -rf "$redocly_dir"
  npm install --prefix "$redocly_dir" --no-audit --no-fund --save-exact --loglevel=error \
    "@redocly/cli@$REDOCLY_VERSION" >/dev/null
fi

validator=$venv/bin/openapi-spec-validator
if [[ ! -x $validator ]] || ! "$venv/bin/pip" show openapi-spec-validator 2>/dev/null \
  | grep -qx "Version: $VALIDATOR_VERSION"; then
  echo "==> installing openapi-spec-validator $VALIDATOR_VERSION into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check \
    "openapi-spec-validator==$VALIDATOR_VERSION" "${VALIDATOR_DEPS[@]}"
fi

echo "==> redocly lint ($REDOCLY_VERSION) $spec"
# From the repository root, where redocly.yaml is found.
redocly_status=0
(cd "$root" && "$redocly" lint --format=stylish "$spec") >"$out/redocly.txt" 2>&1 || redocly_status=$?
grep -vE '^\s*$|[╔║╚]' "$out/redocly.txt" || true
redocly_errors=$(grep -cE '^\s+[0-9]+:[0-9]+\s+error\s' "$out/redocly.txt" || true)
redocly_warnings=$(grep -cE '^\s+[0-9]+:[0-9]+\s+warning\s' "$out/redocly.txt" || true)

echo "==> openapi-spec-validator ($VALIDATOR_VERSION) $spec"
validator_status=0
"$validator" --validation-errors all "$spec" >"$out/validator.txt" 2>&1 || validator_status=$?
cut -c1-300 "$out/validator.txt"
validator_errors=$(grep -cE ': (Validation )?Error:' "$out/validator.txt" || true)

echo
echo "redocly lint: $redocly_errors errors, $redocly_warnings warnings (exit $redocly_status)"
echo "openapi-spec-validator: $validator_errors errors (exit $validator_status)"
if ((redocly_status != 0 || redocly_errors > 0 || validator_status != 0 || validator_errors > 0)); then
  echo "check-openapi: FAILED"
  exit 1
fi
echo "check-openapi: passed"
