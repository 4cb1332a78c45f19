#!/usr/bin/env python3
"""Reads the transactions `bench-cu` logs with TIMELOCK_CU_PROFILE set and prints, for each that passed the
program's `cu_checkpoint!`s, the units spent before the first checkpoint and between consecutive ones (each
checkpoint itself costs about 200 CU: a log and the units syscall, counted in the step after it)."""
import re
import sys

TIMELOCK = "3je1PV4rKrR11tHPVGgydkK6QPJiThw1H36GXrWbQUHF"
blocks = sys.stdin.read().split("--- transaction: ")[1:]
for block in blocks:
    lines = block.splitlines()
    total = lines[0]
    budget = None
    steps = []
    label = None
    for line in lines[1:]:
        m = re.match(r"Program log: (.*)", line)
        if m:
            label = m.group(1)
            continue
        m = re.match(r"Program consumption: (\d+) units remaining", line)
        if m and label:
            steps.append((label, int(m.group(1))))
            label = None
            continue
        m = re.match(rf"Program {TIMELOCK} consumed (\d+) of (\d+) compute units", line)
        if m:
            # The last one is the outer instruction's (the event's self-invocation ends before it).
            budget, consumed = int(m.group(2)), int(m.group(1))
    if not steps:
        continue
    steps.append(("(returned: account writes)", budget - consumed))
    print(f"\n{total}")
    first_budget = budget if budget is not None else steps[0][1]
    previous = ("(entry: input, dispatch, account checks)", first_budget)
    for name, remaining in steps:
        print(f"  {previous[1] - remaining:>7}  {name}")
        previous = (name, remaining)
