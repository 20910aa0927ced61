"""DistributedSampler hands each rank exactly torch's indices (torch's sampler imported directly,
with num_replicas and rank given, so no process group or MPI is needed)."""

from __future__ import annotations

import itertools

import pytest
import torch.utils.data as tdata

import ember.utils.data as edata


@pytest.mark.parametrize("n", [1, 5, 10, 17, 64, 101])
@pytest.mark.parametrize("replicas", [1, 2, 3, 4, 7])
def test_indices_equal_torchs(n, replicas):
    for shuffle, drop_last, seed, epoch in itertools.product([True, False], [True, False], [0, 42], [0, 3]):
        for rank in range(replicas):
            ours = edata.DistributedSampler(range(n), num_replicas=replicas, rank=rank, shuffle=shuffle, seed=seed,
                                            drop_last=drop_last)
            theirs = tdata.DistributedSampler(range(n), num_replicas=replicas, rank=rank, shuffle=shuffle, seed=seed,
                                              drop_last=drop_last)
            ours.set_epoch(epoch)
            theirs.set_epoch(epoch)
            assert list(ours) == list(theirs), (n, replicas, rank, shuffle, drop_last, seed, epoch)
            assert len(ours) == len(theirs) and ours.total_size == theirs.total_size


def test_epochs_reshuffle_and_ranks_partition():
    s = [edata.DistributedSampler(range(20), num_replicas=2, rank=r) for r in range(2)]
    first = [list(x) for x in s]
    assert sorted(first[0] + first[1]) == list(range(20))
    for x in s:
        x.set_epoch(1)
    assert [list(x) for x in s] != first


def test_bad_rank_as_torch():
    with pytest.raises(ValueError, match=r"Invalid rank 3, rank should be in the interval \[0, 2\]"):
        edata.DistributedSampler(range(10), num_replicas=3, rank=3)


def test_in_a_dataloader():
    ds = edata.TensorDataset(__import__("ember").arange(10))
    loader = edata.DataLoader(ds, batch_size=2, sampler=edata.DistributedSampler(ds, num_replicas=2, rank=1, shuffle=False))
    assert [b[0].tolist() for b in loader] == [[1, 3], [5, 7], [9]]
