#!/usr/bin/env bash
# Benchmark: 10,000 license changes through the local Graph emulator at 100 ms per answer,
# by commcred's graph backend and by the Microsoft Graph Python SDK two ways (one request per
# user, as admins' scripts do it; the SDK's batch request content, 4 batches in flight),
# printed side by side. Loopback only. Not part of the test suite.
#
#   benches/graph_apply.sh                 # quota scaled x10 (3,000 writes per 15 s)
#   benches/graph_apply.sh --scale 1       # Graph's real quota (3,000 per 150 s): ~12 min
#   benches/graph_apply.sh --users 2000    # a smaller run
#   benches/graph_apply.sh --mixes         # issue 16's fault mixes beside both SDK scripts (see docs/graph.md)
#   benches/graph_apply.sh --mixes --users 300   # every mix on 300 users, every client alike
#
# The SDK baseline needs msgraph-sdk from PyPI; it is installed into a virtualenv under
# target/ on first use (set COMMCRED_BENCH_PYTHON to use another interpreter instead).
set -euo pipefail
cd "$(dirname "$0")/.."

python="${COMMCRED_BENCH_PYTHON:-}"
if [[ -z "$python" ]]; then
    venv=target/graph-bench-venv
    # msgraph-core's batch module imports `deprecated` without declaring it: install both.
    if [[ ! -x "$venv/bin/python" ]] ||
        ! "$venv/bin/python" -c 'import msgraph, msgraph_core.requests.batch_request_content' 2>/dev/null; then
        echo "installing msgraph-sdk into $venv ..." >&2
        python3 -m venv "$venv"
        "$venv/bin/pip" install --quiet msgraph-sdk Deprecated
    fi
    python="$venv/bin/python"
fi

cargo bench --bench graph_apply -- --python "$python" "$@"
