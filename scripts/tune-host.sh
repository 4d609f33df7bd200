#!/usr/bin/env bash
# Prepares a Linux host for pinned, low-latency ticklane runs, or shows what it would do.
#
#   scripts/tune-host.sh [--apply] CORES       e.g. scripts/tune-host.sh --apply 2,3,4
#
# For the cores the pipeline will be pinned to (`ticklane replay --pipeline threads --cores ...`):
#  - CPU frequency governor -> performance (no ramp-up after idle);
#  - IRQ affinity: every movable interrupt is steered to the cores NOT in the list;
#  - checks the kernel command line for isolcpus/nohz_full/rcu_nocbs on those cores and prints
#    the line to add if they are missing (that one needs a reboot, so it is never applied here).
# Without --apply nothing is changed: the script prints what it would do. Needs root to apply.
set -euo pipefail

apply=0
if [ "${1:-}" = "--apply" ]; then apply=1; shift; fi
cores="${1:-}"
if [ -z "$cores" ]; then
  sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi

ncpu=$(nproc --all)
IFS=',' read -r -a pinned <<< "$cores"
for c in "${pinned[@]}"; do
  if ! [[ "$c" =~ ^[0-9]+$ ]] || [ "$c" -ge "$ncpu" ]; then
    echo "error: core '$c' does not exist (this host has cores 0-$((ncpu - 1)))" >&2
    exit 2
  fi
done
if [ "${#pinned[@]}" -ge "$ncpu" ]; then
  echo "warning: pinning to all $ncpu cores leaves none for interrupts and the OS" >&2
fi

run() {
  if [ "$apply" = 1 ]; then
    echo "+ $*"
    sh -c "$*" || echo "  (failed: $*)" >&2
  else
    echo "would run: $*"
  fi
}

# Governor.
for c in "${pinned[@]}"; do
  gov="/sys/devices/system/cpu/cpu$c/cpufreq/scaling_governor"
  if [ -w "$gov" ] || { [ "$apply" = 0 ] && [ -e "$gov" ]; }; then
    run "echo performance > $gov"
  else
    echo "cpu$c: no cpufreq governor exposed (common on VMs); nothing to set"
  fi
done

# IRQ affinity: the complement of the pinned cores, as a CPU list.
others=()
for ((c = 0; c < ncpu; c++)); do
  keep=1
  for p in "${pinned[@]}"; do [ "$p" = "$c" ] && keep=0; done
  [ "$keep" = 1 ] && others+=("$c")
done
if [ "${#others[@]}" -gt 0 ]; then
  list=$(IFS=','; echo "${others[*]}")
  for irq in /proc/irq/[0-9]*; do
    [ -e "$irq/smp_affinity_list" ] || continue
    run "echo $list > $irq/smp_affinity_list 2>/dev/null"
  done
  echo "irqbalance, if running, will undo IRQ affinity: stop it (systemctl stop irqbalance)."
fi

# Kernel command line.
cmdline=$(cat /proc/cmdline)
if [[ "$cmdline" == *isolcpus=* ]]; then
  echo "kernel: $(grep -o 'isolcpus=[^ ]*' /proc/cmdline)"
else
  echo "kernel: no isolcpus; for dedicated cores add to the kernel command line and reboot:"
  echo "  isolcpus=$cores nohz_full=$cores rcu_nocbs=$cores"
fi
