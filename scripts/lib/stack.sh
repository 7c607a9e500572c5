# Shell helpers shared by scripts/demo and bench/agent_footprint: a private
# software TPM and an edgeward-verifier on loopback. Source it; it defines
# functions only. Callers keep a `pids` array (killed at exit) and a `work`
# directory.

bold() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

# A free loopback TCP port below the ephemeral range.
free_port() {
  local p
  for p in $(shuf -i 10000-32000 -n 50); do
    if ! (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null; then echo "$p"; return 0; fi
  done
  return 1
}

# wait_for SECONDS DESCRIPTION COMMAND...: polls COMMAND every 50 ms.
wait_for() {
  local t=$1 what=$2; shift 2
  local i
  for i in $(seq $((t * 20))); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.05
  done
  echo "timed out after ${t}s waiting for $what" >&2
  return 1
}

# start_swtpm DIR: provisions a TPM with an EK certificate from swtpm's
# local CA in DIR and starts it. Sets tcti, ek_ca (the CA bundle), swtpm_pid.
start_swtpm() {
  local dir=$1 port
  mkdir -p "$dir"
  swtpm_setup --tpm2 --tpmstate "$dir" --create-ek-cert --create-platform-cert \
    --pcr-banks sha1,sha256 --overwrite >/dev/null
  swtpm_pid=""
  for port in $(shuf -i 10000-32000 -n 20); do
    port=$((port & ~1))
    swtpm socket --tpm2 --tpmstate dir="$dir" \
      --server type=tcp,port=$port,bindaddr=127.0.0.1 --ctrl type=tcp,port=$((port+1)),bindaddr=127.0.0.1 \
      --flags not-need-init,startup-clear 2>"$dir/swtpm.err" &
    swtpm_pid=$!
    if wait_for 3 swtpm bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" 2>/dev/null; then break; fi
    kill "$swtpm_pid" 2>/dev/null || true; swtpm_pid=""
  done
  [ -n "$swtpm_pid" ] || { echo "could not start swtpm" >&2; return 1; }
  pids+=("$swtpm_pid")
  tcti="swtpm:host=127.0.0.1,port=$port"
  ek_ca="$dir/ek-ca.pem"
  cat /var/lib/swtpm-localca/swtpm-localca-rootca-cert.pem /var/lib/swtpm-localca/issuercert.pem > "$ek_ca"
}

# start_verifier EWV DIR EK_CA [REFERENCE_YAML]: initialises a verifier in
# DIR (its CA, server certificate, keys), trusts EK_CA for EK chains, puts
# REFERENCE_YAML in as the reference values of group "default", and starts
# it. Sets verifier_url, verifier_ca, verifier_pid.
start_verifier() {
  local ewv=$1 dir=$2 ek=$3 ref=${4:-} port
  port=$(free_port)
  "$ewv" init --dir "$dir" --host 127.0.0.1 >/dev/null
  mkdir -p "$dir/reference"
  [ -z "$ref" ] || cp "$ref" "$dir/reference/default.yaml"
  # Later keys override the commented defaults init wrote.
  sed -i '/^ek_ca_bundle:/d; /^port:/d; /^reference_dir:/d' "$dir/config.yaml"
  printf 'ek_ca_bundle: %s\nport: %s\nreference_dir: %s\n' "$ek" "$port" "$dir/reference" >> "$dir/config.yaml"
  "$ewv" --config "$dir/config.yaml" >"$dir/verifier.log" 2>&1 &
  verifier_pid=$!
  pids+=("$verifier_pid")
  wait_for 15 "the verifier" bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" || { tail -20 "$dir/verifier.log" >&2; return 1; }
  verifier_url="https://127.0.0.1:$port"
  verifier_ca="$dir/node-ca.crt"
}
