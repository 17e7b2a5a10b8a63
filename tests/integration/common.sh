# Sourced by the integration test scripts (set TEST_NAME first). A test that cannot run on this
# machine skips with exit 77, which ctest reports as skipped; under CI=true a skip is a failure.
skip() {
  if [ "${CI:-}" = true ]; then
    echo "$TEST_NAME: FAIL: $* (CI=true: a skip is a failure)" >&2
    exit 1
  fi
  echo "$TEST_NAME: SKIP: $*" >&2
  exit 77
}
