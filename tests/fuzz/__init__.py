"""A differential fuzzer: seeded random programs run under ember and under torch, compared.

program.py   a program: input tensors as data, statements as text over ``L``/``F`` (JSON round trip)
generate.py  the seeded generator (op templates; torch filters candidate statements)
run.py       running a program in each library and comparing values, dtypes, shapes, contiguity,
             gradients, second derivatives and exceptions; the documented tolerances and exclusions
shrink.py    shrinking a failing program to a small reproducer
known.py     mismatches reported but not fixed here, each with a one-line reproducer
verify.py    independent checks that excuse a torch-owned known mismatch only when ember is proven right
regressions/ saved reproducers, replayed by test_fuzz.py with the CI sample

``python -m tests.fuzz --n 100000 --seed 0`` (``make fuzz``) prints counts by category and shrunk
examples; ``--save DIR`` writes them as JSON for regressions/.
"""
