"""Tests of the deep metric-learning losses, miners and the m-per-class sampler.

Three layers: reference values measured with pytorch-metric-learning 2.9.0
(``/work/shared/reference/deep-losses.md``, no PML needed), naive Python loops
straight from each docstring formula (values and autograd gradients to 1e-10),
and an optional live comparison with PML when it is installed.
"""

import pytest

torch = pytest.importorskip("torch")

import math  # noqa: E402
import re  # noqa: E402

import numpy as np  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import mlearn.deep._losses as losses_mod  # noqa: E402
import mlearn.deep._miners as miners_mod  # noqa: E402
from mlearn.deep import (  # noqa: E402
    ArcFaceLoss,
    BatchAllMiner,
    BatchHardMiner,
    CenterLoss,
    ContrastiveLoss,
    CosFaceLoss,
    CrossEntropyLoss,
    LiftedStructureLoss,
    MPerClassSampler,
    MultiSimilarityLoss,
    NormalizedSoftmaxLoss,
    NPairsLoss,
    ProxyAnchorLoss,
    ProxyNCALoss,
    SemiHardMiner,
    SoftTripleLoss,
    SphereFaceLoss,
    TripletMarginLoss,
)

DT = torch.float64
# Naive loops and vectorised code agree to rounding; 1e-10 leaves a wide berth.
TOL = 1e-10


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    # One intra-op thread: deterministic reductions and no oversubscription under
    # pytest-xdist; restored afterwards.
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _close(a, b, tol=TOL):
    torch.testing.assert_close(a, b, rtol=tol, atol=tol)


def _set(loss, **params):
    """Copy tensors into the loss's parameters / buffers (after ``.double()``)."""
    loss = loss.to(DT)
    with torch.no_grad():
        for name, value in params.items():
            getattr(loss, name).copy_(value)
    return loss


def _value_and_grad(loss, emb, labels, indices_tuple=None):
    e = emb.clone().requires_grad_(True)
    value = loss(e, labels, indices_tuple)
    value.backward()
    return value.detach(), e.grad


def _data(seed, B=10, D=5, n_classes=3):
    g = torch.Generator().manual_seed(seed)
    emb = torch.randn(B, D, generator=g, dtype=DT)
    labels = (torch.arange(B) % n_classes)[torch.randperm(B, generator=g)]
    return emb, labels, g


# --------------------------------------------------------------------------
# Reference values of pytorch-metric-learning 2.9.0 (deep-losses.md)
# --------------------------------------------------------------------------

def _ref_inputs():
    k = torch.arange(48, dtype=DT)
    emb = torch.sin(0.7 * k + 0.3).reshape(12, 4)
    labels = torch.tensor([0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3])
    P = torch.cos(1.3 * torch.arange(16, dtype=DT)).reshape(4, 4)
    fc = torch.cos(0.9 * torch.arange(32, dtype=DT)).reshape(4, 8)
    return emb, labels, P, fc


_P = _ref_inputs()[2]
_FC = _ref_inputs()[3]

# (loss, reference value, reference ||d loss / d emb||_2)
REFERENCE_ROWS = {
    "contrastive": (lambda: ContrastiveLoss(), 1.9793087383, 0.2775316635),
    "contrastive_margins": (
        lambda: ContrastiveLoss(pos_margin=0.1, neg_margin=0.8),
        1.6793087383, 0.2775316635),
    "triplet_0.05": (lambda: TripletMarginLoss(margin=0.05),
                     0.6799753575, 0.0522510197),
    "triplet_0.2": (lambda: TripletMarginLoss(margin=0.2),
                    0.8075241895, 0.0599934853),
    "triplet_0.2_smooth": (lambda: TripletMarginLoss(margin=0.2, smooth=True),
                           1.0028829047, 0.0652131426),
    "npairs": (lambda: NPairsLoss(), 2.5023109015, 0.1716175187),
    "lifted_structure": (lambda: LiftedStructureLoss(), 9.2943515212, 0.7011157057),
    "multi_similarity": (lambda: MultiSimilarityLoss(), 1.9795754946, 0.0706080826),
    "proxy_nca": (lambda: _set(ProxyNCALoss(4, 4), proxies=_P),
                  1.8848171770, 0.3232139678),
    "proxy_anchor": (lambda: _set(ProxyAnchorLoss(4, 4), proxies=_P),
                     53.6672643280, 9.4081720291),
    "normalized_softmax": (lambda: _set(NormalizedSoftmaxLoss(4, 4), W=_P.T),
                           13.0112494034, 3.7355266888),
    "cosface_s64": (lambda: _set(CosFaceLoss(4, 4), W=_P.T),
                    60.6412843924, 12.9929325693),
    "cosface_s30": (lambda: _set(CosFaceLoss(4, 4, scale=30), W=_P.T),
                    28.4571923983, 6.1010781428),
    # PML takes the ArcFace margin in degrees and converts it with
    # np.radians: its default 28.6 deg is 0.49916 rad, not 0.5. mlearn's margin
    # is in radians, so margin=math.radians(28.6) reproduces the row to 1e-10,
    # while margin=0.5 gives 61.7174531910 (3e-2 off); see
    # test_arcface_margin_is_in_radians.
    "arcface": (lambda: _set(ArcFaceLoss(4, 4, margin=math.radians(28.6)), W=_P.T),
                61.6846647270, 12.1202095991),
    "sphereface": (lambda: _set(SphereFaceLoss(4, 4), W=_P.T),
                   5.5499750086, 1.3796614081),
    "soft_triple": (lambda: _set(SoftTripleLoss(4, 4, centers_per_class=2), fc=_FC),
                    13.3797944765, 3.4696551886),
}


@pytest.mark.parametrize("name", list(REFERENCE_ROWS))
def test_reference_values_pml_2_9(name):
    make, value, grad_norm = REFERENCE_ROWS[name]
    emb, labels, _, _ = _ref_inputs()
    v, g = _value_and_grad(make().to(DT), emb, labels)
    assert v.item() == pytest.approx(value, abs=1e-8)
    assert g.norm().item() == pytest.approx(grad_norm, abs=1e-8)


@pytest.mark.parametrize("name", ["triplet_0.05", "triplet_0.2"])
def test_reference_triplet_both_algorithms(name, triplet_path):
    make, value, grad_norm = REFERENCE_ROWS[name]
    emb, labels, _, _ = _ref_inputs()
    v, g = _value_and_grad(make().to(DT), emb, labels)
    assert v.item() == pytest.approx(value, abs=1e-8)
    assert g.norm().item() == pytest.approx(grad_norm, abs=1e-8)


def test_triplet_algorithms_agree_float32_and_many_positives():
    # 4 classes in a batch of 96 (23 positives per anchor): the default picks
    # the sorted algorithm; it must match the packed one, in float32 too.
    g = torch.Generator().manual_seed(5)
    emb = torch.randn(96, 8, generator=g, dtype=DT)
    labels = torch.arange(96) % 4
    loss = TripletMarginLoss(margin=0.2)
    results = {}
    for threshold in (0, 10**9):
        losses_mod._SORTED_MIN_POSITIVES, saved = (
            threshold, losses_mod._SORTED_MIN_POSITIVES)
        try:
            results[threshold] = [_value_and_grad(loss, e, labels)
                                  for e in (emb, emb.float())]
        finally:
            losses_mod._SORTED_MIN_POSITIVES = saved
    (v_s, g_s), (v_s32, g_s32) = results[0]
    (v_p, g_p), (v_p32, g_p32) = results[10**9]
    _close(v_s, v_p, 1e-13)
    _close(g_s, g_p, 1e-13)
    assert v_s32.dtype == torch.float32 and g_s32.dtype == torch.float32
    torch.testing.assert_close(v_s32.double(), v_p, rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(g_s32.double(), g_p, rtol=1e-4, atol=1e-6)
    torch.testing.assert_close(v_p32.double(), v_p, rtol=1e-6, atol=1e-6)


def test_reference_semihard_miner_then_triplet():
    emb, labels, _, _ = _ref_inputs()
    triplets = SemiHardMiner(margin=0.2)(emb, labels)
    assert triplets[0].numel() == 17
    v, g = _value_and_grad(TripletMarginLoss(margin=0.2), emb, labels, triplets)
    assert v.item() == pytest.approx(0.1645268409, abs=1e-8)
    assert torch.isfinite(g).all()


def test_reference_center_loss_paper_form():
    emb, labels, P, _ = _ref_inputs()
    loss = _set(CenterLoss(4, 4), centers=P)
    term = loss.center_term(emb, labels)
    assert term.item() == pytest.approx(24.1448556116, abs=1e-8)
    # KaiyangZhou's mean form is 2 / B times the paper's sum.
    assert (2 * term / 12).item() == pytest.approx(4.0241426019, abs=1e-8)


def test_arcface_margin_is_in_radians():
    emb, labels, P, _ = _ref_inputs()
    v, _ = _value_and_grad(_set(ArcFaceLoss(4, 4, margin=0.5), W=P.T), emb, labels)
    assert v.item() == pytest.approx(61.7174531910, abs=1e-8)
    assert abs(v.item() - 61.6846647270) > 1e-2


# --------------------------------------------------------------------------
# Naive loops, straight from the formulas
# --------------------------------------------------------------------------

def _units(emb):
    return [emb[i] / emb[i].norm() for i in range(emb.shape[0])]


def _dist(u, v):
    return (u - v).norm()


def _all_pairs(labels):
    B = labels.shape[0]
    pos = {(i, j) for i in range(B) for j in range(B)
           if i != j and labels[i] == labels[j]}
    neg = {(i, j) for i in range(B) for j in range(B) if labels[i] != labels[j]}
    return pos, neg


def _all_triplets(labels):
    B = labels.shape[0]
    return [(a, p, n) for a in range(B) for p in range(B) for n in range(B)
            if a != p and labels[a] == labels[p] and labels[a] != labels[n]]


def _mean_nonzero(terms):
    nonzero = [t for t in terms if t > 0]
    if not nonzero:
        return 0.0
    return sum(nonzero) / len(nonzero)


def _cross_entropy(logits, y):
    return -logits[y] + torch.log(sum(torch.exp(z) for z in logits))


def naive_contrastive(emb, pos, neg, pos_margin=0.0, neg_margin=1.0, power=1.0):
    x = _units(emb)
    pos_terms = [F.relu(_dist(x[i], x[j]) - pos_margin) ** power
                 for i, j in sorted(pos)]
    neg_terms = [F.relu(neg_margin - _dist(x[i], x[j])) ** power
                 for i, j in sorted(neg)]
    return _mean_nonzero(pos_terms) + _mean_nonzero(neg_terms)


def naive_triplet(emb, triplets, margin=0.2, smooth=False):
    x = _units(emb)
    terms = []
    for a, p, n in triplets:
        z = _dist(x[a], x[p]) - _dist(x[a], x[n]) + margin
        terms.append(F.softplus(z) if smooth else F.relu(z))
    if smooth:
        return sum(terms) / len(terms)
    return _mean_nonzero(terms)


def naive_npairs(emb, labels):
    x = _units(emb)
    anchors, positives = [], []
    for c in sorted(set(labels.tolist())):
        members = [i for i in range(labels.shape[0]) if labels[i] == c]
        if len(members) >= 2:
            anchors.append(members[0])
            positives.append(members[1])
    total = 0.0
    for r, a in enumerate(anchors):
        logits = [x[a] @ x[p] for p in positives]
        total = total + _cross_entropy(logits, r)
    return total / len(anchors)


def naive_lifted(emb, pos, neg, neg_margin=1.0, pos_margin=0.0):
    x = _units(emb)
    total = 0.0
    for i, j in sorted(pos):
        s = sum(torch.exp(neg_margin - _dist(x[a], x[k]))
                for a in (i, j) for k in range(len(x)) if (a, k) in neg)
        if not torch.is_tensor(s):  # no negatives: J = -inf, adds 0
            continue
        J = torch.log(s) + _dist(x[i], x[j]) - pos_margin
        total = total + F.relu(J) ** 2
    return total / (2 * len(pos))


def naive_multi_similarity(emb, pos, neg, alpha=2.0, beta=50.0, base=0.5):
    x = _units(emb)
    B = len(x)
    total = 0.0
    for i in range(B):
        sp = sum(torch.exp(-alpha * (x[i] @ x[p] - base))
                 for p in range(B) if (i, p) in pos)
        sn = sum(torch.exp(beta * (x[i] @ x[n] - base))
                 for n in range(B) if (i, n) in neg)
        total = total + torch.log(1 + torch.as_tensor(sp)) / alpha
        total = total + torch.log(1 + torch.as_tensor(sn)) / beta
    return total / B


def naive_proxy_nca(emb, labels, proxies, scale=1.0):
    x = _units(emb)
    p = _units(proxies)
    total = 0.0
    for i in range(len(x)):
        logits = [-scale * ((x[i] - pc) ** 2).sum() for pc in p]
        total = total + _cross_entropy(logits, int(labels[i]))
    return total / len(x)


def naive_proxy_anchor(emb, labels, proxies, margin=0.1, alpha=32.0):
    x = _units(emb)
    p = _units(proxies)
    pos_total, n_pos, neg_total = 0.0, 0, 0.0
    for c in range(len(p)):
        members = [i for i in range(len(x)) if labels[i] == c]
        others = [i for i in range(len(x)) if labels[i] != c]
        if members:
            n_pos += 1
            pos_total = pos_total + torch.log(1 + sum(
                torch.exp(-alpha * (x[i] @ p[c] - margin)) for i in members))
        neg_total = neg_total + torch.log(1 + sum(
            torch.exp(alpha * (x[i] @ p[c] + margin)) for i in others))
    return pos_total / n_pos + neg_total / len(p)


def naive_soft_triple(emb, labels, fc, K, la=20.0, gamma=0.1, margin=0.01):
    x = _units(emb)
    centers = _units(fc.T)
    C = len(centers) // K
    total = 0.0
    for i in range(len(x)):
        logits = []
        for c in range(C):
            sims = [x[i] @ centers[c * K + k] for k in range(K)]
            weights = [torch.exp(s / gamma) for s in sims]
            S = sum(w * s for w, s in zip(weights, sims)) / sum(weights)
            logits.append(la * (S - (margin if c == int(labels[i]) else 0.0)))
        total = total + _cross_entropy(logits, int(labels[i]))
    return total / len(x)


def _naive_margin_softmax(emb, labels, W, target_logit, scale, times_norm=False):
    x = _units(emb)
    w = _units(W.T)
    total = 0.0
    for i in range(len(x)):
        y = int(labels[i])
        logits = [x[i] @ wc for wc in w]
        logits[y] = target_logit(logits[y])
        factor = scale * (emb[i].norm() if times_norm else 1.0)
        total = total + _cross_entropy([factor * z for z in logits], y)
    return total / len(x)


def naive_cosface(emb, labels, W, margin=0.35, scale=64.0):
    return _naive_margin_softmax(emb, labels, W, lambda c: c - margin, scale)


def naive_arcface(emb, labels, W, margin=0.5, scale=64.0):
    def target(c):
        theta = torch.acos(c)
        if theta <= math.pi - margin:
            return torch.cos(theta + margin)
        return c - margin * math.sin(margin)

    return _naive_margin_softmax(emb, labels, W, target, scale)


def naive_sphereface(emb, labels, W, margin=4, scale=1.0):
    def target(c):
        theta = torch.acos(c)
        k = math.floor(theta.detach().item() * margin / math.pi)
        return (-1) ** k * torch.cos(margin * theta) - 2 * k

    return _naive_margin_softmax(emb, labels, W, target, scale, times_norm=True)


def _class_case(seed, n_classes=4, D=5, B=10):
    # Labels use only 3 of the 4 classes: one proxy / weight has no positive.
    emb, labels, g = _data(seed, B=B, D=D, n_classes=3)
    return emb, labels, n_classes, g


def _check_naive(loss, emb, labels, naive, indices_tuple=None):
    v, g = _value_and_grad(loss, emb, labels, indices_tuple)
    e = emb.clone().requires_grad_(True)
    ref = naive(e)
    ref.backward()
    _close(v, ref.detach())
    _close(g, e.grad)
    assert torch.isfinite(g).all()


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("kw", [{}, {"pos_margin": 0.3, "neg_margin": 1.2},
                                {"power": 2.0}])
def test_contrastive_naive(seed, kw):
    emb, labels, _ = _data(seed)
    pos, neg = _all_pairs(labels)
    _check_naive(ContrastiveLoss(**kw), emb, labels,
                 lambda e: naive_contrastive(e, pos, neg, **kw))


@pytest.fixture(params=["packed", "sorted"])
def triplet_path(request, monkeypatch):
    """Run the all-triplet hinge through either of its two algorithms."""
    threshold = 10**9 if request.param == "packed" else 0
    monkeypatch.setattr(losses_mod, "_SORTED_MIN_POSITIVES", threshold)
    return request.param


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("kw", [{"margin": 0.05}, {"margin": 0.2},
                                {"margin": 0.2, "smooth": True}])
def test_triplet_all_naive(seed, kw, triplet_path):
    emb, labels, _ = _data(seed)
    triplets = _all_triplets(labels)
    _check_naive(TripletMarginLoss(**kw), emb, labels,
                 lambda e: naive_triplet(e, triplets, **kw))


@pytest.mark.parametrize("smooth", [False, True])
@pytest.mark.parametrize("chunk_anchors", [1, 3])
def test_triplet_chunked_equals_unchunked_and_naive(monkeypatch, smooth,
                                                    chunk_anchors):
    emb, labels, _ = _data(3, B=11)
    loss = TripletMarginLoss(margin=0.3, smooth=smooth)
    v_full, g_full = _value_and_grad(loss, emb, labels)
    B = emb.shape[0]
    P = int(losses_mod._label_masks(labels)[0].sum(1).max())  # packed positives
    # chunk = _TRIPLET_CHUNK // (P B) anchors per chunk; 3 does not divide 11.
    monkeypatch.setattr(losses_mod, "_TRIPLET_CHUNK", chunk_anchors * P * B)
    v_chunk, g_chunk = _value_and_grad(loss, emb, labels)
    _close(v_chunk, v_full, 1e-13)
    _close(g_chunk, g_full, 1e-13)
    triplets = _all_triplets(labels)
    _check_naive(loss, emb, labels,
                 lambda e: naive_triplet(e, triplets, margin=0.3, smooth=smooth))


@pytest.mark.parametrize("seed", [0, 1])
def test_triplet_mined_naive(seed):
    emb, labels, _ = _data(seed)
    a, p, n = BatchAllMiner(margin=0.2)(emb, labels)
    # A repeated triplet counts twice (the loss works on the list).
    idx = (torch.cat([a, a[:3]]), torch.cat([p, p[:3]]), torch.cat([n, n[:3]]))
    triplets = list(zip(*(t.tolist() for t in idx)))
    for smooth in (False, True):
        _check_naive(TripletMarginLoss(margin=0.2, smooth=smooth), emb, labels,
                     lambda e: naive_triplet(e, triplets, 0.2, smooth), idx)


@pytest.mark.parametrize("seed", [0, 1])
def test_npairs_naive(seed):
    emb, labels, _ = _data(seed, n_classes=4)
    _check_naive(NPairsLoss(), emb, labels, lambda e: naive_npairs(e, labels))


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("kw", [{}, {"neg_margin": 0.5, "pos_margin": 0.1}])
def test_lifted_structure_naive(seed, kw):
    emb, labels, _ = _data(seed)
    pos, neg = _all_pairs(labels)
    _check_naive(LiftedStructureLoss(**kw), emb, labels,
                 lambda e: naive_lifted(e, pos, neg, **kw))


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("kw", [{}, {"alpha": 1.0, "beta": 10.0, "base": 0.2}])
def test_multi_similarity_naive(seed, kw):
    emb, labels, _ = _data(seed)
    pos, neg = _all_pairs(labels)
    _check_naive(MultiSimilarityLoss(**kw), emb, labels,
                 lambda e: naive_multi_similarity(e, pos, neg, **kw))


def _mined_pairs(labels, g):
    """A random unique subset of the positive and negative pairs, as a 4-tuple."""
    pos, neg = _all_pairs(labels)
    pos, neg = sorted(pos), sorted(neg)
    keep_p = torch.randperm(len(pos), generator=g)[: len(pos) // 2].tolist()
    keep_n = torch.randperm(len(neg), generator=g)[: len(neg) // 4].tolist()
    pos = [pos[k] for k in keep_p]
    neg = [neg[k] for k in keep_n]
    a1, p = (torch.tensor(t) for t in zip(*pos))
    a2, n = (torch.tensor(t) for t in zip(*neg))
    return (a1, p, a2, n), set(pos), set(neg)


PAIR_LOSSES = {
    "contrastive": (ContrastiveLoss, naive_contrastive),
    "lifted_structure": (LiftedStructureLoss, naive_lifted),
    "multi_similarity": (MultiSimilarityLoss, naive_multi_similarity),
}


@pytest.mark.parametrize("name", list(PAIR_LOSSES))
@pytest.mark.parametrize("seed", [0, 1])
def test_pair_losses_with_mined_pairs(name, seed):
    Loss, naive = PAIR_LOSSES[name]
    emb, labels, g = _data(seed, B=12)
    indices, pos, neg = _mined_pairs(labels, g)
    _check_naive(Loss(), emb, labels, lambda e: naive(e, pos, neg), indices)


@pytest.mark.parametrize("name", list(PAIR_LOSSES))
@pytest.mark.parametrize("seed", [0, 1])
def test_pair_losses_with_mined_triplets(name, seed):
    # (a, p, n) triplets give the positive pairs {(a, p)} and negative pairs
    # {(a, n)}, each counted once however many triplets share it (the losses
    # build B×B masks). PML 2.9's list-based Contrastive / Lifted would count
    # a pair once per triplet that contains it.
    Loss, naive = PAIR_LOSSES[name]
    emb, labels, _ = _data(seed, B=12)
    a, p, n = SemiHardMiner(margin=0.4)(emb, labels)
    assert a.numel() > 0
    pos = set(zip(a.tolist(), p.tolist()))
    neg = set(zip(a.tolist(), n.tolist()))
    _check_naive(Loss(), emb, labels, lambda e: naive(e, pos, neg), (a, p, n))


@pytest.mark.parametrize("name", list(PAIR_LOSSES))
def test_pair_losses_count_a_repeated_pair_once(name):
    # Mined pairs become B×B masks: listing a pair twice changes nothing.
    Loss, _ = PAIR_LOSSES[name]
    emb, labels, g = _data(2, B=12)
    (a1, p, a2, n), _, _ = _mined_pairs(labels, g)
    doubled = (a1.repeat(2), p.repeat(2), a2.repeat(3), n.repeat(3))
    v, gr = _value_and_grad(Loss(), emb, labels, (a1, p, a2, n))
    v2, gr2 = _value_and_grad(Loss(), emb, labels, doubled)
    _close(v2, v, 0.0)
    _close(gr2, gr, 0.0)


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("scale", [1.0, 9.0])
def test_proxy_nca_naive(seed, scale):
    emb, labels, C, g = _class_case(seed)
    proxies = torch.randn(C, emb.shape[1], generator=g, dtype=DT)
    loss = _set(ProxyNCALoss(C, emb.shape[1], softmax_scale=scale), proxies=proxies)
    _check_naive(loss, emb, labels,
                 lambda e: naive_proxy_nca(e, labels, proxies, scale))


@pytest.mark.parametrize("seed", [0, 1])
def test_proxy_anchor_naive(seed):
    emb, labels, C, g = _class_case(seed)
    proxies = torch.randn(C, emb.shape[1], generator=g, dtype=DT)
    loss = _set(ProxyAnchorLoss(C, emb.shape[1]), proxies=proxies)
    _check_naive(loss, emb, labels, lambda e: naive_proxy_anchor(e, labels, proxies))
    # and the proxies' gradient (_check_naive already accumulated one)
    loss.proxies.grad = None
    p = proxies.clone().requires_grad_(True)
    naive_proxy_anchor(emb, labels, p).backward()
    loss(emb, labels).backward()
    _close(loss.proxies.grad, p.grad)


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("K", [1, 3])
def test_soft_triple_naive(seed, K):
    emb, labels, C, g = _class_case(seed)
    fc = torch.randn(emb.shape[1], C * K, generator=g, dtype=DT)
    loss = _set(SoftTripleLoss(C, emb.shape[1], centers_per_class=K), fc=fc)
    _check_naive(loss, emb, labels, lambda e: naive_soft_triple(e, labels, fc, K))


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("kw", [{}, {"margin": 0.2, "scale": 30.0}])
def test_cosface_naive(seed, kw):
    emb, labels, C, g = _class_case(seed)
    W = torch.randn(emb.shape[1], C, generator=g, dtype=DT)
    loss = _set(CosFaceLoss(C, emb.shape[1], **kw), W=W)
    _check_naive(loss, emb, labels, lambda e: naive_cosface(e, labels, W, **kw))


@pytest.mark.parametrize("seed", [0, 1])
def test_normalized_softmax_naive(seed):
    emb, labels, C, g = _class_case(seed)
    W = torch.randn(emb.shape[1], C, generator=g, dtype=DT)
    for T in (0.05, 0.3):
        loss = _set(NormalizedSoftmaxLoss(C, emb.shape[1], temperature=T), W=W)
        _check_naive(loss, emb, labels,
                     lambda e: _naive_margin_softmax(e, labels, W, lambda c: c,
                                                     1.0 / T))


@pytest.mark.parametrize("seed", [0, 1])
def test_cross_entropy_naive(seed):
    emb, labels, C, g = _class_case(seed)
    W = torch.randn(C, emb.shape[1], generator=g, dtype=DT)
    b = torch.randn(C, generator=g, dtype=DT)
    loss = CrossEntropyLoss(C, emb.shape[1]).to(DT)
    with torch.no_grad():
        loss.classifier.weight.copy_(W)
        loss.classifier.bias.copy_(b)

    def naive(e):  # -log softmax(W x + b)_y, one sample at a time, no scaling
        total = 0.0
        for i in range(len(e)):
            logits = [W[c] @ e[i] + b[c] for c in range(C)]
            y = int(labels[i])
            total = total - torch.log(torch.exp(logits[y])
                                      / sum(torch.exp(z) for z in logits))
        return total / len(e)

    _check_naive(loss, emb, labels, naive)
    # the classifier's weights get gradients too (they are trained)
    loss(emb, labels).backward()
    assert loss.classifier.weight.grad.abs().sum() > 0


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("margin", [0.5, 1.2])
def test_arcface_naive(seed, margin):
    # margin=1.2 puts some targets past theta = pi - m (the linear branch).
    emb, labels, C, g = _class_case(seed)
    W = torch.randn(emb.shape[1], C, generator=g, dtype=DT)
    loss = _set(ArcFaceLoss(C, emb.shape[1], margin=margin, scale=16.0), W=W)
    _check_naive(loss, emb, labels,
                 lambda e: naive_arcface(e, labels, W, margin, 16.0))


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("margin", [1, 2, 3, 4])
def test_sphereface_naive(seed, margin):
    emb, labels, C, g = _class_case(seed)
    W = torch.randn(emb.shape[1], C, generator=g, dtype=DT)
    loss = _set(SphereFaceLoss(C, emb.shape[1], margin=margin, scale=0.7), W=W)
    _check_naive(loss, emb, labels,
                 lambda e: naive_sphereface(e, labels, W, margin, 0.7))


def test_center_loss_naive_and_center_update():
    emb, labels, C, g = _class_case(0)
    D = emb.shape[1]
    centers = torch.randn(C, D, generator=g, dtype=DT)
    loss = _set(CenterLoss(C, D, lambda_c=0.3, alpha=0.5), centers=centers)
    Wc = loss.classifier.weight.detach().clone()
    bc = loss.classifier.bias.detach().clone()

    def naive(e):
        total = 0.0
        for i in range(len(e)):
            y = int(labels[i])
            logits = [sum(Wc[c, d] * e[i, d] for d in range(D)) + bc[c]
                      for c in range(C)]
            total = total + _cross_entropy(logits, y) / len(e)
            total = total + 0.3 * 0.5 * sum((e[i, d] - centers[y, d]) ** 2
                                           for d in range(D))
        return total

    loss.eval()  # no centre update
    _check_naive(loss, emb, labels, naive)
    _close(loss.centers, centers, 0.0)

    loss.train()
    loss(emb, labels)
    expected = centers.clone()
    for j in range(C):
        members = [i for i in range(len(emb)) if labels[i] == j]
        delta = sum((centers[j] - emb[i] for i in members), torch.zeros(D, dtype=DT))
        expected[j] = centers[j] - 0.5 * delta / (1 + len(members))
    _close(loss.centers, expected)
    assert not loss.centers.requires_grad


@pytest.mark.parametrize("make", [
    lambda: ContrastiveLoss(),
    lambda: TripletMarginLoss(margin=0.3),
    lambda: TripletMarginLoss(margin=0.3, smooth=True),
    lambda: LiftedStructureLoss(),
    lambda: MultiSimilarityLoss(alpha=2.0, beta=10.0),
    lambda: NPairsLoss(),
], ids=["contrastive", "triplet", "triplet_smooth", "lifted", "ms", "npairs"])
def test_gradcheck(make):
    emb, labels, _ = _data(5, B=6, D=3, n_classes=2)
    loss = make()
    e = emb.clone().requires_grad_(True)
    assert torch.autograd.gradcheck(lambda x: loss(x, labels), (e,), eps=1e-6,
                                    atol=1e-6)


def test_gradcheck_class_losses():
    emb, labels, C, g = _class_case(6, B=6, D=3)
    W = torch.randn(3, C, generator=g, dtype=DT)
    for loss in (_set(ArcFaceLoss(C, 3, scale=4.0), W=W),
                 _set(SphereFaceLoss(C, 3), W=W),
                 _set(ProxyAnchorLoss(C, 3, alpha=4.0), proxies=W.T)):
        e = emb.clone().requires_grad_(True)
        assert torch.autograd.gradcheck(lambda x: loss(x, labels), (e,), eps=1e-6,
                                        atol=1e-6)


# --------------------------------------------------------------------------
# Miners vs brute force
# --------------------------------------------------------------------------

def _brute_distances(emb):
    x = _units(emb)
    return [[float(_dist(u, v)) for v in x] for u in x]


def _as_set(indices):
    return set(zip(*(t.tolist() for t in indices)))


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("margin", [0.1, 0.5])
def test_batch_all_and_semihard_miners_brute_force(seed, margin):
    emb, labels, _ = _data(seed, B=12)
    d = _brute_distances(emb)
    triplets = _all_triplets(labels)
    violating = {(a, p, n) for a, p, n in triplets
                 if d[a][p] - d[a][n] + margin > 0}
    semihard = {(a, p, n) for a, p, n in triplets
                if d[a][p] < d[a][n] <= d[a][p] + margin}
    assert _as_set(BatchAllMiner(margin)(emb, labels)) == violating
    assert _as_set(SemiHardMiner(margin)(emb, labels)) == semihard
    assert semihard and semihard < violating


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_batch_hard_miner_brute_force(seed):
    emb, labels, _ = _data(seed, B=12)
    labels = labels.clone()
    labels[0] = 7  # a singleton class: anchor 0 has no positive, is skipped
    d = _brute_distances(emb)
    B = len(d)
    expected = set()
    for a in range(B):
        ps = [p for p in range(B) if p != a and labels[p] == labels[a]]
        ns = [n for n in range(B) if labels[n] != labels[a]]
        if ps and ns:
            expected.add((a, max(ps, key=lambda p: d[a][p]),
                          min(ns, key=lambda n: d[a][n])))
    mined = BatchHardMiner()(emb, labels)
    assert len(mined[0]) == len(expected) == B - 1
    assert _as_set(mined) == expected


@pytest.mark.parametrize("Miner", [BatchAllMiner, SemiHardMiner])
def test_miner_chunked_equals_unchunked(monkeypatch, Miner):
    emb, labels, _ = _data(4, B=11)
    full = Miner(0.3)(emb, labels)
    # The miners bind _TRIPLET_CHUNK at import: patch their module's name.
    monkeypatch.setattr(miners_mod, "_TRIPLET_CHUNK", 2 * 11 * 11)
    chunked = Miner(0.3)(emb, labels)
    for u, v in zip(full, chunked):
        assert torch.equal(u, v)


def test_miner_no_gradient_and_repr():
    emb, labels, _ = _data(0)
    e = emb.clone().requires_grad_(True)
    for miner in (BatchAllMiner(), SemiHardMiner(), BatchHardMiner()):
        for t in miner(e, labels):
            assert not t.requires_grad and t.dtype == torch.long
    assert repr(SemiHardMiner(0.3)) == "SemiHardMiner(margin=0.3)"


# --------------------------------------------------------------------------
# Memory: nothing builds a B×B×B tensor
# --------------------------------------------------------------------------

def _big_batch():
    g = torch.Generator().manual_seed(0)
    emb = torch.randn(512, 64, generator=g)
    labels = torch.arange(512) % 64
    return emb, labels


@pytest.mark.parametrize("make, n_classes", [
    (lambda: LiftedStructureLoss(), 64),
    (lambda: TripletMarginLoss(margin=0.2), 64),
    (lambda: TripletMarginLoss(margin=0.2), 4),
    (lambda: TripletMarginLoss(margin=0.2, smooth=True), 64)],
    ids=["lifted", "triplet", "triplet_sorted", "triplet_smooth"])
def test_batch_512_forward_backward(make, n_classes):
    # 512³ float32 temporaries would be 512 MiB each; these run in O(B²).
    emb, labels = _big_batch()
    labels = labels % n_classes
    v, g = _value_and_grad(make(), emb, labels)
    assert torch.isfinite(v) and v > 0
    assert torch.isfinite(g).all() and g.abs().sum() > 0


def test_triplet_chunk_size_does_not_change_result(monkeypatch):
    emb, labels = _big_batch()
    emb, labels = emb[:96].double(), labels[:96] % 12
    loss = TripletMarginLoss(margin=0.2)
    v_one, g_one = _value_and_grad(loss, emb, labels)  # a single chunk
    # 7 positives per anchor: chunks of 5 anchors
    monkeypatch.setattr(losses_mod, "_TRIPLET_CHUNK", 5 * 7 * 96)
    v_many, g_many = _value_and_grad(loss, emb, labels)
    _close(v_many, v_one, 1e-12)
    _close(g_many, g_one, 1e-12)


# --------------------------------------------------------------------------
# Edge cases
# --------------------------------------------------------------------------

def test_no_positive_pairs():
    # All labels distinct. Losses built on positives return exactly 0 with a zero
    # gradient; contrastive and multi-similarity keep their negative term (as in
    # PML), which must still match the naive loop and have a finite gradient.
    emb, _, _ = _data(0, B=6)
    labels = torch.arange(6)
    for loss in (TripletMarginLoss(), TripletMarginLoss(smooth=True), NPairsLoss(),
                 LiftedStructureLoss()):
        v, g = _value_and_grad(loss, emb, labels)
        assert v.item() == 0.0
        assert torch.equal(g, torch.zeros_like(g))
    pos, neg = _all_pairs(labels)
    assert not pos
    for Loss, naive in ((ContrastiveLoss, naive_contrastive),
                        (MultiSimilarityLoss, naive_multi_similarity)):
        _check_naive(Loss(), emb, labels, lambda e: naive(e, pos, neg))


def test_single_class_batch():
    # No negatives: the triplet, lifted and n-pair losses are 0 with a finite
    # (zero) gradient; the logsumexp over an empty set must not give NaN.
    emb, _, _ = _data(0, B=6)
    labels = torch.zeros(6, dtype=torch.long)
    for loss in (TripletMarginLoss(), TripletMarginLoss(smooth=True), NPairsLoss(),
                 LiftedStructureLoss()):
        v, g = _value_and_grad(loss, emb, labels)
        assert v.item() == 0.0
        assert torch.equal(g, torch.zeros_like(g))
    for loss in (ContrastiveLoss(), MultiSimilarityLoss()):
        v, g = _value_and_grad(loss, emb, labels)
        assert torch.isfinite(v) and torch.isfinite(g).all()


def test_empty_mined_tuples():
    emb, labels, _ = _data(0)
    empty = torch.zeros(0, dtype=torch.long)
    for loss, idx in ((TripletMarginLoss(), (empty,) * 3),
                      (ContrastiveLoss(), (empty,) * 4),
                      (LiftedStructureLoss(), (empty,) * 4),
                      (MultiSimilarityLoss(), (empty,) * 3)):
        v, g = _value_and_grad(loss, emb, labels, idx)
        assert v.item() == 0.0
        assert torch.equal(g, torch.zeros_like(g))


@pytest.mark.parametrize("Loss", [ContrastiveLoss, LiftedStructureLoss,
                                  MultiSimilarityLoss])
@pytest.mark.parametrize("length", [2, 5])
def test_pair_losses_reject_bad_indices_tuple(Loss, length):
    emb, labels, _ = _data(0)
    idx = (torch.tensor([0]),) * length
    msg = ("indices_tuple must hold 3 (triplets) or 4 (pairs) index tensors, got "
           f"{length}.")
    with pytest.raises(ValueError, match=re.escape(msg)):
        Loss()(emb, labels, idx)


def test_triplet_rejects_pairs():
    emb, labels, _ = _data(0)
    idx = (torch.tensor([0]),) * 4
    msg = ("TripletMarginLoss needs (anchor, positive, negative) indices, got a "
           "tuple of 4.")
    with pytest.raises(ValueError, match=re.escape(msg)):
        TripletMarginLoss()(emb, labels, idx)


def test_reference_multi_similarity_with_all_pairs_as_mined_tuple():
    # PML's MultiSimilarityMiner keeps all 24 positive and 108 negative pairs of
    # the reference batch; passing them as a 4-tuple must give the same value.
    emb, labels, _, _ = _ref_inputs()
    pos, neg = _all_pairs(labels)
    assert (len(pos), len(neg)) == (24, 108)
    a1, p = (torch.tensor(t) for t in zip(*sorted(pos)))
    a2, n = (torch.tensor(t) for t in zip(*sorted(neg)))
    v, _ = _value_and_grad(MultiSimilarityLoss(), emb, labels, (a1, p, a2, n))
    assert v.item() == pytest.approx(1.9795754946, abs=1e-8)


@pytest.mark.parametrize("smooth", [False, True])
def test_triplet_all_triplets_as_tuple_equals_unmined(smooth):
    emb, labels, _ = _data(7)
    idx = tuple(torch.tensor(t) for t in zip(*_all_triplets(labels)))
    loss = TripletMarginLoss(margin=0.3, smooth=smooth)
    v_all, g_all = _value_and_grad(loss, emb, labels)
    v_idx, g_idx = _value_and_grad(loss, emb, labels, idx)
    _close(v_idx, v_all)
    _close(g_idx, g_all)


def test_lifted_positive_pair_without_negatives():
    # Mined pairs where positive pair (2, 3) has no negative at either end: by
    # the formula J = log(0) + d = -inf, so it adds 0 but still counts in |P|.
    # (PML 2.9 masks the empty log-sum-exp to 0 instead, i.e. J = d_23, so the
    # two differ in this corner only.)
    emb, _, _ = _data(0, B=6)
    labels = torch.tensor([0, 0, 1, 1, 2, 2])
    idx = (torch.tensor([0, 1, 2]), torch.tensor([1, 0, 3]),
           torch.tensor([0, 0]), torch.tensor([2, 4]))
    pos, neg = {(0, 1), (1, 0), (2, 3)}, {(0, 2), (0, 4)}
    _check_naive(LiftedStructureLoss(), emb, labels,
                 lambda e: naive_lifted(e, pos, neg), idx)


def test_duplicate_embeddings_have_finite_gradients():
    # Coincident points: d = 0 sits on the sqrt's singularity, clipped.
    emb, labels, _ = _data(0, B=8)
    emb = emb.clone()
    emb[1] = emb[0]
    emb[4] = 2 * emb[0]  # same direction: the same point after normalising
    for loss in (ContrastiveLoss(), TripletMarginLoss(),
                 TripletMarginLoss(smooth=True), LiftedStructureLoss(),
                 MultiSimilarityLoss(), NPairsLoss()):
        v, g = _value_and_grad(loss, emb, labels)
        assert torch.isfinite(v) and torch.isfinite(g).all()


def test_margin_softmax_finite_gradient_on_its_own_weight():
    # cos(theta_y) = 1 exactly: acos is singular there, the losses avoid it.
    emb, labels, C, g = _class_case(0)
    W = torch.randn(emb.shape[1], C, generator=g, dtype=DT)
    emb = emb.clone()
    emb[0] = 3.0 * W[:, labels[0]]
    emb[1] = -W[:, labels[1]]  # cos = -1
    for loss in (ArcFaceLoss(C, 5), SphereFaceLoss(C, 5), CosFaceLoss(C, 5)):
        v, g = _value_and_grad(_set(loss, W=W), emb, labels)
        assert torch.isfinite(v) and torch.isfinite(g).all()


def test_center_loss_training_step_and_dtypes():
    # float32 centre buffer, float64 features; train mode updates the centres
    # after the loss is built, so backward still works.
    emb, labels, C, _ = _class_case(0)
    loss = CenterLoss(C, 5, lambda_c=0.5)
    loss.classifier.to(DT)
    loss.train()
    e = emb.clone().requires_grad_(True)
    value = loss(e, labels)
    value.backward()
    assert value.dtype == DT and torch.isfinite(e.grad).all()
    assert loss.centers.dtype == torch.float32
    # the classes present moved towards their means, the absent class (3) stays
    assert loss.centers[:3].abs().sum() > 0
    assert torch.equal(loss.centers[3], torch.zeros(5))


def test_loss_registry_runs():
    from mlearn.deep import LOSSES

    emb, labels, C, _ = _class_case(0)
    for name, make in LOSSES.items():
        loss = make(C, emb.shape[1]) if make.needs_classes else make()
        loss = loss.to(DT)
        v, g = _value_and_grad(loss, emb, labels)
        assert torch.isfinite(v) and torch.isfinite(g).all(), name
    am = LOSSES["am_softmax"](C, 5)
    assert isinstance(am, CosFaceLoss) and (am.scale, am.margin) == (30.0, 0.35)


def test_float32_matches_float64():
    emb, labels, _ = _data(2)
    for loss in (ContrastiveLoss(), TripletMarginLoss(), LiftedStructureLoss(),
                 MultiSimilarityLoss(), NPairsLoss()):
        v64 = loss(emb, labels)
        v32 = loss(emb.float(), labels)
        assert v32.dtype == torch.float32
        assert v32.item() == pytest.approx(v64.item(), rel=1e-5, abs=1e-6)


# --------------------------------------------------------------------------
# MPerClassSampler
# --------------------------------------------------------------------------

def _sampler_labels():
    # 7 classes of sizes 2..14: small classes force sampling with replacement.
    return np.repeat(np.arange(7), np.arange(2, 16, 2))


@pytest.mark.parametrize("m, batch_size", [(4, 16), (3, 10), (2, 7), (4, 64),
                                           (1, 1), (5, 5)])
def test_sampler_batches(m, batch_size):
    labels = _sampler_labels()
    sampler = MPerClassSampler(labels, m=m, batch_size=batch_size, random_state=0)
    batches = list(sampler)
    assert len(sampler) == len(batches) == math.ceil(len(labels) / batch_size)
    for batch in batches:
        assert batch.shape == (batch_size,)
        assert batch.min() >= 0 and batch.max() < len(labels)
        _, counts = np.unique(labels[batch], return_counts=True)
        assert counts.min() >= m
        n_classes = min(7, batch_size // m)
        assert len(counts) == n_classes


def test_sampler_m_is_a_minimum():
    # The documented example: 10 classes, m=4, batch 128 -> every class in
    # every batch, 12 or 13 samples each (not 4).
    labels = np.repeat(np.arange(10), 100)
    for batch in MPerClassSampler(labels, m=4, batch_size=128, random_state=0):
        _, counts = np.unique(labels[batch], return_counts=True)
        assert len(counts) == 10 and set(counts) <= {12, 13}


def test_sampler_without_replacement_when_class_is_large_enough():
    labels = np.repeat(np.arange(4), 20)
    for batch in MPerClassSampler(labels, m=5, batch_size=20, random_state=1):
        assert len(np.unique(batch)) == 20


def test_sampler_reproducible():
    labels = _sampler_labels()

    def batches(rs):
        return [b.tolist() for b in
                MPerClassSampler(labels, m=3, batch_size=12, random_state=rs)]

    assert batches(0) == batches(0)
    assert batches(0) != batches(1)
    assert (batches(np.random.RandomState(5))
            == batches(np.random.RandomState(5)))
    # a fresh iteration continues the random stream: a new epoch, new batches
    sampler = MPerClassSampler(labels, m=3, batch_size=12, random_state=0)
    first = [b.tolist() for b in sampler]
    assert [b.tolist() for b in sampler] != first


def test_sampler_len():
    labels = np.arange(100) % 5
    assert len(MPerClassSampler(labels, m=2, batch_size=32)) == 4
    assert len(MPerClassSampler(labels, m=2, batch_size=25)) == 4
    assert len(MPerClassSampler(labels, m=2, batch_size=100)) == 1


def test_sampler_errors():
    labels = np.arange(20) % 4
    with pytest.raises(ValueError, match=re.escape("m must be at least 1, got 0.")):
        MPerClassSampler(labels, m=0)
    msg = "batch_size (3) must be at least m (4)."
    with pytest.raises(ValueError, match=re.escape(msg)):
        MPerClassSampler(labels, m=4, batch_size=3)


# --------------------------------------------------------------------------
# Live comparison with pytorch-metric-learning (optional)
# --------------------------------------------------------------------------

# PML's LargeMarginSoftmax (parent of SphereFace) passes a numpy scalar through
# scipy.special.binom, which NumPy 2 flags.
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_against_pytorch_metric_learning():
    pml = pytest.importorskip("pytorch_metric_learning")
    from pytorch_metric_learning import losses as L
    from pytorch_metric_learning import miners as M

    emb, labels, g = _data(11, B=16, D=6, n_classes=4)
    C, D = 4, emb.shape[1]
    proxies = torch.randn(C, D, generator=g, dtype=DT)
    W = torch.randn(D, C, generator=g, dtype=DT)
    fc = torch.randn(D, C * 3, generator=g, dtype=DT)

    pairs = [
        (ContrastiveLoss(pos_margin=0.1, neg_margin=0.9),
         L.ContrastiveLoss(pos_margin=0.1, neg_margin=0.9)),
        (TripletMarginLoss(margin=0.05), L.TripletMarginLoss(margin=0.05)),
        (TripletMarginLoss(margin=0.2, smooth=True),
         L.TripletMarginLoss(margin=0.2, smooth_loss=True)),
        (NPairsLoss(), L.NPairsLoss()),
        (LiftedStructureLoss(neg_margin=0.8), L.LiftedStructureLoss(neg_margin=0.8)),
        (MultiSimilarityLoss(alpha=3.0, beta=40.0, base=0.4),
         L.MultiSimilarityLoss(alpha=3.0, beta=40.0, base=0.4)),
        (_set(ProxyNCALoss(C, D, softmax_scale=3.0), proxies=proxies),
         _set(L.ProxyNCALoss(C, D, softmax_scale=3.0), proxies=proxies)),
        (_set(ProxyAnchorLoss(C, D, margin=0.2, alpha=16.0), proxies=proxies),
         _set(L.ProxyAnchorLoss(C, D, margin=0.2, alpha=16.0), proxies=proxies)),
        (_set(CosFaceLoss(C, D, margin=0.3, scale=20.0), W=W),
         _set(L.CosFaceLoss(C, D, margin=0.3, scale=20.0), W=W)),
        (_set(NormalizedSoftmaxLoss(C, D, temperature=0.1), W=W),
         _set(L.NormalizedSoftmaxLoss(C, D, temperature=0.1), W=W)),
        (_set(ArcFaceLoss(C, D, margin=math.radians(20.0), scale=20.0), W=W),
         _set(L.ArcFaceLoss(C, D, margin=20.0, scale=20.0), W=W)),
        # 100 deg puts targets past pi - m: the cos(theta) - m sin(m) branch
        (_set(ArcFaceLoss(C, D, margin=math.radians(100.0), scale=5.0), W=W),
         _set(L.ArcFaceLoss(C, D, margin=100.0, scale=5.0), W=W)),
        (_set(SphereFaceLoss(C, D, margin=3, scale=2.0), W=W),
         _set(L.SphereFaceLoss(C, D, margin=3, scale=2.0), W=W)),
        (_set(SphereFaceLoss(C, D), W=W), _set(L.SphereFaceLoss(C, D), W=W)),
        (_set(SoftTripleLoss(C, D, centers_per_class=3, la=10.0), fc=fc),
         _set(L.SoftTripleLoss(C, D, centers_per_class=3, la=10.0), fc=fc)),
    ]
    for ours, theirs in pairs:
        v, gr = _value_and_grad(ours, emb, labels)
        e = emb.clone().requires_grad_(True)
        ref = theirs(e, labels)
        ref.backward()
        _close(v, ref.detach(), 1e-9)
        _close(gr, e.grad, 1e-9)

    # Miners: the same triplet sets.
    for ours, theirs in ((SemiHardMiner(0.3), M.TripletMarginMiner(0.3, "semihard")),
                         (BatchAllMiner(0.3), M.TripletMarginMiner(0.3, "all"))):
        assert _as_set(ours(emb, labels)) == _as_set(theirs(emb, labels))
    assert _as_set(BatchHardMiner()(emb, labels)) == _as_set(
        M.BatchHardMiner()(emb, labels))

    # Mined pairs (unique, as a pair miner returns them) through the pair losses.
    pairs_idx = M.MultiSimilarityMiner(epsilon=0.1)(emb, labels)
    for ours, theirs in ((ContrastiveLoss(), L.ContrastiveLoss()),
                         (LiftedStructureLoss(), L.LiftedStructureLoss()),
                         (MultiSimilarityLoss(), L.MultiSimilarityLoss())):
        v, gr = _value_and_grad(ours, emb, labels, pairs_idx)
        e = emb.clone().requires_grad_(True)
        ref = theirs(e, labels, pairs_idx)
        ref.backward()
        _close(v, ref.detach(), 1e-9)
        _close(gr, e.grad, 1e-9)
    assert pml.__version__.startswith("2.")
