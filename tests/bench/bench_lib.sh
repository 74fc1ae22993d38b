# Shell functions the benchmark scripts share (sourced, not run): their usage text, the clock,
# medians and ratios. POSIX sh and awk only.

# The script's header comment, from its second line to `set -eu`, is its usage text.
usage() { sed -n '2,/^set -eu/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

now() { date +%s.%N; }

# median_of [DECIMALS]: the median of the numbers on standard input, with two decimals unless
# told otherwise, or "-" when there are none.
median_of() {
    sort -n | awk -v d="${1:-2}" '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) printf "%." d "f", v[(NR + 1) / 2]; else printf "%." d "f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# ratio A B DECIMALS: A / B as "1.4x", or "-" when either is missing or B is not positive.
ratio() {
    if [ "$1" = - ] || [ "$2" = - ]; then echo -; else awk -v a="$1" -v b="$2" -v d="$3" 'BEGIN { if (b > 0) printf "%." d "fx", a / b; else print "-" }'; fi
}
