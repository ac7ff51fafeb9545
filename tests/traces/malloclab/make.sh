#!/bin/bash
# make.sh -- regenerates the malloc-lab style traces here with `stackheap gen` (synthetic, in the
# spirit of the lab's trace mix; not CMU's files): the twelve scripts/grading/malloclab.lua
# grades, and realloc-heavy (for the reference policies' tests only). Usage: make.sh STACKHEAP
set -euo pipefail
sh=${1:-stackheap}
cd "$(dirname "$0")"
gen() { local name=$1; shift; "$sh" gen --format rep --balance -o "$name.rep" "$@"; }
gen small-lifo      -n 600  --sizes uniform:1,64      --lifetime lifo   --seed 1
gen small-random    -n 1500 --sizes uniform:1,128     --lifetime random --seed 2
gen exp-random      -n 2000 --sizes exp:96            --lifetime random --seed 3
gen lognormal-fifo  -n 2000 --sizes lognormal:5,1     --lifetime fifo   --seed 4
gen binary          -n 2000 --sizes classes:16=1,112=1 --lifetime fifo  --seed 5
gen binary2         -n 2000 --sizes classes:24=1,448=1 --lifetime random --seed 6
gen coalescing      -n 1500 --sizes uniform:2000,4000 --lifetime lifo   --seed 7 --phases 6
gen phases          -n 2000 --sizes uniform:1,1024    --lifetime random --seed 8 --phases 4
gen large           -n 800  --sizes exp:4096          --lifetime random --seed 9
gen realloc         -n 1500 --sizes uniform:16,512    --realloc 0.6 --lifetime random --seed 10
gen realloc2        -n 1500 --sizes exp:200           --realloc 0.8 --lifetime lifo   --seed 11
gen classes         -n 2000 --sizes classes:8=4,32=3,64=2,200=1,1000=1 --lifetime random --seed 12
gen realloc-heavy   -n 3000 --sizes lognormal:5,1.2   --realloc 0.6 --lifetime random --seed 13
