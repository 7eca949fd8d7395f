"""Structured pruning of a CNN to a memory budget: the pruning space, plans, pruners and physical removal.

A *channel group* is a set of channels that must be removed together (torch-pruning's
dependency graph finds them: a ResNet stage's residual channels are one group, each inner
convolution's outputs another). A :class:`PruningPlan` gives every group the number of
channels it keeps, rounded to a multiple of 16 so INT8 kernels stay aligned. A pruner is
anything with ``plan(space, budget) -> PruningPlan`` (:class:`Pruner`): here the uniform
L1 baseline (:class:`L1UniformPruner`) and the LSTM policy trained by REINFORCE
(:class:`training.tongue.pruning_policy.MemoryConstrainedPruner`). Both choose *how many*
channels each group keeps; :func:`apply_plan` removes the channels of least L1 norm (which
channels) and returns a smaller network of the same outputs.

The budget is a fraction of the unpruned network's parameters (its INT8 size) and/or
multiply-accumulates. :class:`PruningSpace` prices any plan exactly and instantly from the
layer shapes, so a search spends its time only on plans worth scoring.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Protocol

import torch
import torch_pruning as tp
from torch import Tensor, nn

from tcm_desktop.domain import TcmError
from training.tongue.models import TongueClassifier, layer_widths

ROUND_TO = 16
KEEP_RATIOS = (0.25, 0.375, 0.5, 0.625, 0.75, 0.875, 1.0)  # the decision network's actions
_ROOTS = [nn.Conv2d, nn.Linear]


class PruningError(TcmError):
    """A network cannot be pruned as asked (budget out of reach, unknown layer, plan for another network)."""


@dataclass(frozen=True)
class Cost:
    params: int
    macs: int

    def ratio(self, base: Cost) -> dict[str, float]:
        return {"params": self.params / base.params, "macs": self.macs / base.macs}


@dataclass(frozen=True)
class Budget:
    """Limits as fractions of the unpruned network: ``params`` (memory) and/or ``macs`` (compute)."""

    params: float | None = None
    macs: float | None = None

    def __post_init__(self) -> None:
        if self.params is None and self.macs is None:
            raise PruningError("a pruning budget needs a parameter or a MACs fraction")
        for value in (self.params, self.macs):
            if value is not None and not 0 < value <= 1:
                raise PruningError(f"a budget is a fraction of the unpruned network in (0, 1], not {value}")

    def excess(self, cost: Cost, base: Cost) -> float:
        """How far ``cost`` is over the budget, as a fraction of it (0 within budget); the worst limit counts."""
        ratios = cost.ratio(base)
        limits = {"params": self.params, "macs": self.macs}
        return max(max(0.0, ratios[k] / v - 1) for k, v in limits.items() if v is not None)

    def slack(self, cost: Cost, base: Cost) -> float:
        """``cost`` over the tightest limit minus 1: negative under budget, positive over it."""
        ratios = cost.ratio(base)
        limits = {"params": self.params, "macs": self.macs}
        return max(ratios[k] / v - 1 for k, v in limits.items() if v is not None)

    def to_dict(self) -> dict[str, float | None]:
        return asdict(self)


@dataclass(frozen=True)
class ChannelGroup:
    """Channels removed together: named after torch-pruning's root layer of the group."""

    name: str
    channels: int
    outputs: tuple[str, ...]  # Conv2d / Linear / BatchNorm2d whose output width it sets
    inputs: tuple[str, ...]  # Conv2d / Linear whose input width it sets


@dataclass(frozen=True)
class _Layer:
    """A weight-carrying layer, with what its cost depends on."""

    name: str
    kind: str  # "conv", "linear" or "bn"
    out_channels: int
    in_channels: int
    kernel: int  # kh * kw (1 for linear)
    bias: bool
    positions: int  # output pixels per image (conv); 1 otherwise
    out_group: int | None
    in_group: int | None


@dataclass(frozen=True)
class PruningPlan:
    """Channels each group keeps (after rounding), the keep ratio asked for, and what the pruner noted."""

    pruner: str
    channels: dict[str, int]
    keep: dict[str, float]
    info: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"pruner": self.pruner, "channels": dict(self.channels), "keep": dict(self.keep), "info": self.info}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PruningPlan:
        return cls(
            str(data["pruner"]),
            {k: int(v) for k, v in data["channels"].items()},
            {k: float(v) for k, v in data["keep"].items()},
            dict(data.get("info", {})),
        )


def round_channels(channels: int, keep: float, round_to: int = ROUND_TO) -> int:
    """``keep * channels`` rounded to the nearest multiple of ``round_to``, at least ``round_to``, at most all."""
    if keep >= 1 or channels <= round_to:
        return channels
    kept = round_to * math.floor(keep * channels / round_to + 0.5)
    return int(min(channels, max(round_to, kept)))


def _group_roots(graph: tp.DependencyGraph, ignored: Sequence[nn.Module]) -> list[nn.Module]:
    groups = graph.get_all_groups(ignored_layers=list(ignored), root_module_types=_ROOTS)
    return [g[0].dep.target.module for g in groups]


def _record_positions(positions: dict[str, int], name: str) -> Callable[..., None]:
    def hook(_module: nn.Module, _inputs: Any, output: Tensor) -> None:
        positions[name] = output[0, 0].numel()

    return hook


def _ignored(model: nn.Module, names: Iterable[str]) -> list[nn.Module]:
    wanted = set(names)
    return [m for n, m in model.named_modules() if n in wanted]


class PruningSpace:
    """The prunable channel groups of ``model`` in network order, and the exact cost of any plan over them.

    ``ignored`` names layers whose outputs must keep their width (the classifier's heads).
    """

    def __init__(self, model: nn.Module, example_input: Tensor, ignored: Sequence[str] = (), round_to: int = ROUND_TO):
        self.model, self.example_input, self.round_to = model, example_input, round_to
        self.ignored = tuple(ignored)
        probe = copy.deepcopy(model).eval()  # tracing must not touch the caller's network (BN statistics)
        names = {m: n for n, m in probe.named_modules()}
        order = {n: i for i, n in enumerate(names.values())}
        graph = tp.DependencyGraph().build_dependency(probe, example_inputs=example_input)
        found = []
        for root in _group_roots(graph, _ignored(probe, self.ignored)):
            fn = graph.get_pruner_of_module(root).prune_out_channels
            group = graph.get_pruning_group(root, fn, list(range(graph.get_out_channels(root))))
            outputs, inputs = [], []
            for dep, _ in group:
                target = dep.target.module
                if not isinstance(target, nn.Conv2d | nn.Linear | nn.BatchNorm2d) or target not in names:
                    continue
                if isinstance(target, nn.BatchNorm2d) or graph.is_out_channel_pruning_fn(dep.handler):
                    outputs.append(names[target])
                elif graph.is_in_channel_pruning_fn(dep.handler):
                    inputs.append(names[target])
            found.append(
                ChannelGroup(names[root], graph.get_out_channels(root), tuple(sorted(set(outputs), key=order.get)),
                             tuple(sorted(set(inputs), key=order.get)))
            )  # fmt: skip
        self.groups: list[ChannelGroup] = sorted(found, key=lambda g: order[g.name])
        self.index = {g.name: i for i, g in enumerate(self.groups)}
        self._layers = self._describe_layers(probe, example_input)
        full = [g.channels for g in self.groups]
        self._other_params = 0  # parameters outside Conv2d / Linear / BatchNorm2d: none in a ResNet, kept as is
        self._other_params = sum(p.numel() for p in model.parameters()) - self.cost(full).params
        self.base = self.cost(full)

    def _describe_layers(self, probe: nn.Module, example_input: Tensor) -> list[_Layer]:
        out_group = {n: i for i, g in enumerate(self.groups) for n in g.outputs}
        in_group = {n: i for i, g in enumerate(self.groups) for n in g.inputs}
        positions: dict[str, int] = {}
        hooks = []
        for name, module in probe.named_modules():
            if isinstance(module, nn.Conv2d):
                if module.groups != 1:
                    raise PruningError(f"{name}: grouped convolutions are not supported by this pruner")
                hooks.append(module.register_forward_hook(_record_positions(positions, name)))
        with torch.no_grad():
            probe(example_input[:1])
        for hook in hooks:
            hook.remove()
        layers = []
        for name, module in probe.named_modules():
            if isinstance(module, nn.Conv2d):
                kh, kw = module.kernel_size
                shape = (module.out_channels, module.in_channels, kh * kw, module.bias is not None, positions[name])
                layers.append(_Layer(name, "conv", *shape, out_group.get(name), in_group.get(name)))
            elif isinstance(module, nn.Linear):
                shape = (module.out_features, module.in_features, 1, module.bias is not None, 1)
                layers.append(_Layer(name, "linear", *shape, out_group.get(name), in_group.get(name)))
            elif isinstance(module, nn.BatchNorm2d):
                shape = (module.num_features, module.num_features, 1, module.affine, 1)
                layers.append(_Layer(name, "bn", *shape, out_group.get(name), out_group.get(name)))
        return layers

    def cost(self, channels: Sequence[int]) -> Cost:
        """Parameters and MACs (Conv2d and Linear) per image of the network with ``channels`` kept per group."""
        params, macs = self._other_params, 0
        for layer in self._layers:
            out = layer.out_channels if layer.out_group is None else channels[layer.out_group]
            cin = layer.in_channels if layer.in_group is None else channels[layer.in_group]
            if layer.kind == "bn":
                params += 2 * out if layer.bias else 0
                continue
            weights = out * cin * layer.kernel
            params += weights + (out if layer.bias else 0)
            macs += weights * layer.positions
        return Cost(params, macs)

    def channels_for(self, keep: Sequence[float]) -> list[int]:
        return [round_channels(g.channels, k, self.round_to) for g, k in zip(self.groups, keep, strict=True)]

    def shares(self) -> list[tuple[float, float]]:
        """Per group, the share of all parameters and of all MACs in the layers whose width it sets."""
        out = []
        for i in range(len(self.groups)):
            params = macs = 0
            for layer in self._layers:
                if i in (layer.out_group, layer.in_group) and layer.kind != "bn":
                    params += layer.out_channels * layer.in_channels * layer.kernel
                    macs += layer.out_channels * layer.in_channels * layer.kernel * layer.positions
            out.append((params / self.base.params, macs / self.base.macs))
        return out

    def make_plan(self, pruner: str, keep: Sequence[float], info: dict[str, Any] | None = None) -> PruningPlan:
        channels = self.channels_for(keep)
        cost = self.cost(channels)
        info = dict(info or {}) | {"predicted": asdict(cost), "predicted_ratio": cost.ratio(self.base)}
        return PruningPlan(
            pruner,
            {g.name: c for g, c in zip(self.groups, channels, strict=True)},
            {g.name: float(k) for g, k in zip(self.groups, keep, strict=True)},
            info,
        )

    def plan_cost(self, plan: PruningPlan) -> Cost:
        missing = [g.name for g in self.groups if g.name not in plan.channels]
        if missing:
            raise PruningError(f"the plan is for another network: it has no width for {missing[:3]}")
        return self.cost([plan.channels[g.name] for g in self.groups])

    def within(self, plan: PruningPlan, budget: Budget) -> bool:
        return budget.excess(self.plan_cost(plan), self.base) == 0.0


class Pruner(Protocol):
    """Decides how many channels each group of ``space`` keeps so the network fits ``budget``."""

    name: str

    def plan(self, space: PruningSpace, budget: Budget) -> PruningPlan: ...


def uniform_keep(space: PruningSpace, budget: Budget, lowest: float = 1 / 64) -> float:
    """The largest single keep ratio, the same for every group, whose rounded plan fits ``budget``."""

    def fits(keep: float) -> bool:
        return budget.excess(space.cost(space.channels_for([keep] * len(space.groups))), space.base) == 0.0

    if fits(1.0):
        return 1.0
    if not fits(lowest):
        smallest = space.cost(space.channels_for([lowest] * len(space.groups))).ratio(space.base)
        raise PruningError(f"the budget {budget.to_dict()} is below the smallest network this can make {smallest}")
    lo, hi = lowest, 1.0
    for _ in range(40):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if fits(mid) else (lo, mid)
    return lo


class L1UniformPruner:
    """The baseline: one keep ratio for every group, the largest that fits the budget (channels chosen by L1)."""

    name = "l1"

    def plan(self, space: PruningSpace, budget: Budget) -> PruningPlan:
        keep = uniform_keep(space, budget)
        return space.make_plan(self.name, [keep] * len(space.groups), {"uniform_keep": keep})


def apply_plan(model: nn.Module, plan: PruningPlan, example_input: Tensor, ignored: Sequence[str] = ()) -> nn.Module:
    """A copy of ``model`` with the channels of least L1 norm physically removed, group by group, as ``plan`` says.

    torch-pruning's dependency graph removes each group's channels from every layer that
    shares them (convolutions, batch norms, residual additions, the heads' inputs), so the
    outputs keep their shapes. A :class:`TongueClassifier` comes back with its width map in
    ``config.widths``, which makes its checkpoints loadable by :func:`training.tongue.train.build_model`.
    """
    if isinstance(model, TongueClassifier) and not ignored:
        ignored = classifier_ignored(model)
    pruned = copy.deepcopy(model).eval()
    names = {m: n for n, m in pruned.named_modules()}
    graph = tp.DependencyGraph().build_dependency(pruned, example_inputs=example_input)
    importance = tp.importance.MagnitudeImportance(p=1)
    roots = _group_roots(graph, _ignored(pruned, ignored))
    unknown = [names[r] for r in roots if names[r] not in plan.channels]
    if unknown:
        raise PruningError(f"the plan has no width for the groups {unknown[:3]} of this network")
    for root in roots:
        channels, keep = graph.get_out_channels(root), plan.channels[names[root]]
        if keep >= channels:
            continue
        if keep < 1:
            raise PruningError(f"the plan keeps {keep} channels of {names[root]}")
        fn = graph.get_pruner_of_module(root).prune_out_channels
        scores = importance(graph.get_pruning_group(root, fn, list(range(channels))))
        drop = torch.argsort(scores)[: channels - keep].tolist()
        graph.get_pruning_group(root, fn, drop).prune()
    if isinstance(pruned, TongueClassifier):
        pruned.config = replace(pruned.config, widths=layer_widths(pruned))
    return pruned


def classifier_ignored(model: TongueClassifier) -> tuple[str, ...]:
    """The tongue classifier's layers whose outputs keep their width: the per-attribute heads."""
    return tuple(f"heads.{name}" for name in model.head_names)


def classifier_space(model: TongueClassifier, example_input: Tensor) -> PruningSpace:
    return PruningSpace(model, example_input, classifier_ignored(model))


def measure(model: nn.Module, example_input: Tensor) -> Cost:
    """Parameters and MACs of ``model`` for one image, counted by torch-pruning on the network itself."""
    macs, params = tp.utils.count_ops_and_params(model, example_input[:1])
    return Cost(int(params), int(macs))


@torch.no_grad()
def recalibrate_batchnorm(model: nn.Module, batches: Iterable[Tensor]) -> None:
    """Re-estimate every BatchNorm's running mean and variance on ``batches`` (pruning shifts them); eval mode after."""
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    momenta = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # a cumulative average over the batches, not an exponential one
    model.train()
    for batch in batches:
        model(batch)
    for m, momentum in zip(norms, momenta, strict=True):
        m.momentum = momentum
    model.eval()
