#!/usr/bin/env bash
# Runs a command beside a throwaway single-node Slurm cluster from Debian's packages
# (slurm-wlm, munge): munged with its own key, slurmctld and slurmd with a config in a
# temporary folder (proctrack/linuxproc, task/none, no accounting, 4 CPUs declared so four
# array tasks run at once on a 2-core machine), on free loopback ports. SLURM_CONF names it
# for sbatch, squeue and scancel. Everything is stopped and removed on the way out.
# Slurm's daemons run as root here; where that or the packages are missing it exits 77
# (ctest's skip) with a loud message.
set -euo pipefail
skip() { echo "SKIP (loud): the Slurm test cannot start a cluster here: $*" >&2; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "slurmd must run as root (this is $(id -un))"
for b in munged mungekey slurmctld slurmd sbatch squeue scancel sinfo; do
  command -v "$b" >/dev/null || skip "$b not found (apt-get install slurm-wlm munge; make deps does)"
done
dir=$(mktemp -d /tmp/onepath-slurm.XXXXXX)
node=$(hostname -s)
pids=()
stop() {
  if [ -f "$dir/slurm.conf" ]; then  # the jobs first, while the daemons that can end them run
    SLURM_CONF=$dir/slurm.conf scancel --quiet --full --signal=KILL --user="$(id -un)" 2>/dev/null || true
    for _ in $(seq 1 50); do [ -z "$(SLURM_CONF=$dir/slurm.conf squeue --noheader 2>/dev/null)" ] && break; sleep 0.1; done
  fi
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
  done
  pkill -9 -f "$dir/" 2>/dev/null || true
  rm -rf "$dir"
}
trap stop EXIT
free_port() { while :; do p=$((20000 + RANDOM % 30000)); ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && { echo "$p"; return; }; done; }
mkdir -p "$dir/state" "$dir/spool/$node"
mungekey -c -k "$dir/munge.key" >/dev/null 2>&1 || skip "mungekey could not make a key"
munged -F --force --key-file="$dir/munge.key" --socket="$dir/munge.sock" --pid-file="$dir/munged.pid" \
  --seed-file="$dir/munged.seed" --log-file="$dir/munged.log" >"$dir/munged.out" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do [ -S "$dir/munge.sock" ] && break; sleep 0.05; done
[ -S "$dir/munge.sock" ] || skip "munged did not start: $(cat "$dir/munged.out")"
cat >"$dir/slurm.conf" <<CONF
ClusterName=onepath
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$(free_port)
SlurmdPort=$(free_port)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$dir/munge.sock
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool/%n
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=1
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
SlurmdParameters=config_overrides
KillWait=5
NodeName=$node NodeAddr=127.0.0.1 CPUs=4 State=UNKNOWN
PartitionName=onepath Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$dir/slurm.conf
slurmctld -D -i -f "$SLURM_CONF" >"$dir/slurmctld.out" 2>&1 &
pids+=($!)
slurmd -D -N "$node" -f "$SLURM_CONF" >"$dir/slurmd.out" 2>&1 &
pids+=($!)
for _ in $(seq 1 200); do
  sinfo --noheader --format=%t 2>/dev/null | grep -q '^idle' && break
  sleep 0.1
done
sinfo --noheader --format=%t 2>/dev/null | grep -q '^idle' ||
  skip "the node did not come up: $(tail -5 "$dir/slurmctld.log" "$dir/slurmd.log" "$dir/slurmd.out" 2>&1)"
echo "with_slurm: cluster 'onepath' up ($node, 4 CPUs, $SLURM_CONF)"
"$@"
