"""Memory-constrained pruning: an LSTM decision network picks a keep ratio per layer, trained by REINFORCE.

The decision network walks the prunable channel groups in network order. At each step its
input is what is known about that layer (position, width, share of the parameters and MACs,
how its feature maps and L1 norms are spread over its channels, measured on a calibration
batch with forward hooks) together with its own previous decision and how the plan so far
stands against the budget; it outputs a distribution over :data:`KEEP_RATIOS`. An episode
samples one plan, prunes a copy of the network with it (:func:`apply_plan`), and scores it
with the caller's ``score`` (the tongue command recalibrates BatchNorm on training photos
and returns the validation macro-F1, no fine-tuning). The reward is that score minus
``penalty`` times the fraction by which the plan exceeds the budget; REINFORCE with a
moving-average baseline (advantages scaled by the rewards' recent spread) updates the
network. The best-scoring plan *within* the budget is kept. The search starts from the
uniform plan (the L1 baseline's), which is scored first, seeds the baseline and is a
candidate like any other; the plan says where it came from.

By default (``mask_infeasible``, as AMC does) a step may only take keep ratios after which
the budget is still reachable with every later layer at the smallest ratio, so every plan
sampled fits and every costly scoring is of a usable plan; the penalty then never bites.
Switched off, the policy must learn the budget from the penalty alone: on the tiny test
network that wasted about half the episodes on plans over budget and learnt the per-layer
preference far less reliably.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
import torch_pruning as tp
from torch import Tensor, nn
from torch.nn import functional as F

from training.tongue.pruning import (
    KEEP_RATIOS,
    Budget,
    PruningError,
    PruningPlan,
    PruningSpace,
    apply_plan,
    uniform_keep,
)

_MASKED = -1e9  # the logit of an action the budget rules out (finite: -inf would turn gradients into NaN)


@dataclass
class SearchSettings:
    episodes: int = 120
    keep_ratios: tuple[float, ...] = KEEP_RATIOS
    penalty: float = 2.0  # reward lost per unit of relative budget excess (10 % over costs 0.2)
    lr: float = 0.01
    entropy: float = 0.05  # bonus (per step) that keeps the policy exploring
    hidden: int = 64
    baseline_decay: float = 0.8
    batch: int = 1  # episodes per policy update
    # AMC-style: at each step, only keep ratios after which the budget is still reachable (every plan
    # sampled is then within budget and worth scoring); off, the budget is enforced by the penalty alone
    mask_infeasible: bool = True
    prior_width: float = 0.15  # the untrained policy's spread (in keep ratio) around the uniform ratio
    seed: int = 13
    max_seconds: float | None = None
    seed_uniform: bool = True  # score the uniform plan first (baseline and candidate)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class DecisionNetwork(nn.Module):
    """An LSTM over the layers; per step, logits over the keep ratios."""

    def __init__(self, inputs: int, actions: int, hidden: int, prior: Tensor) -> None:
        super().__init__()
        self.lstm = nn.LSTM(inputs, hidden, batch_first=True)
        self.head = nn.Linear(hidden, actions)
        with torch.no_grad():  # start near the prior, so early plans are near the budget, not anywhere
            self.head.weight.mul_(0.1)
            self.head.bias.copy_(prior)

    def forward(
        self, steps: Tensor, state: tuple[Tensor, Tensor] | None = None
    ) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        out, state = self.lstm(steps, state)
        return self.head(out), state


def layer_features(space: PruningSpace, batch: Tensor) -> Tensor:
    """Per group, standardised over the groups: what the decision network knows about the layer before deciding.

    Columns: position, log2 width, share of parameters, share of MACs, log mean |activation|
    of the root layer's output channels, their coefficient of variation, the share of the
    group's L1 importance held by its stronger half, and whether it is a residual group.
    """
    model = space.model
    names = dict(model.named_modules())
    stats: dict[str, tuple[float, float]] = {}

    def hook(name: str) -> Callable[..., None]:
        def record(_module: nn.Module, _inputs: Any, output: Tensor) -> None:
            per_channel = output.detach().abs().transpose(0, 1).reshape(output.shape[1], -1).mean(dim=1)
            mean = float(per_channel.mean())
            stats[name] = (float(np.log(mean + 1e-8)), float(per_channel.std() / (mean + 1e-8)))

        return record

    handles = [names[g.name].register_forward_hook(hook(g.name)) for g in space.groups]
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(batch)
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    concentration = _importance_concentration(space)
    shares = space.shares()
    n = len(space.groups)
    rows = []
    for i, group in enumerate(space.groups):
        rows.append(
            [
                i / max(n - 1, 1),
                float(np.log2(group.channels)),
                shares[i][0],
                shares[i][1],
                *stats[group.name],
                concentration[i],
                float(sum(1 for name in group.outputs if isinstance(names[name], nn.Conv2d)) > 1),
            ]
        )
    table = torch.tensor(rows, dtype=torch.float32)
    spread = table.std(dim=0)
    return (table - table.mean(dim=0)) / torch.where(spread > 1e-6, spread, torch.ones_like(spread))


def _importance_concentration(space: PruningSpace) -> list[float]:
    """Per group, the share of its L1 importance (torch-pruning's, over every coupled layer) in its top half."""
    probe = copy.deepcopy(space.model).eval()  # tracing runs the network; the caller's BN statistics stay
    graph = tp.DependencyGraph().build_dependency(probe, example_inputs=space.example_input)
    modules = dict(probe.named_modules())
    importance = tp.importance.MagnitudeImportance(p=1)
    out = []
    for group in space.groups:
        root = modules[group.name]
        fn = graph.get_pruner_of_module(root).prune_out_channels
        scores = importance(graph.get_pruning_group(root, fn, list(range(group.channels)))).sort(descending=True)[0]
        out.append(float(scores[: max(1, len(scores) // 2)].sum() / scores.sum().clamp_min(1e-12)))
    return out


class MemoryConstrainedPruner:
    """Per-layer keep ratios from an LSTM policy trained with REINFORCE against a memory/MACs budget."""

    name = "memory"

    def __init__(
        self,
        score: Callable[[nn.Module], float],
        feature_batch: Tensor,
        settings: SearchSettings | None = None,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.score_model, self.feature_batch = score, feature_batch
        self.settings = settings or SearchSettings()
        self.log = log or (lambda _message: None)

    def plan(self, space: PruningSpace, budget: Budget) -> PruningPlan:
        s = self.settings
        ratios = torch.tensor(s.keep_ratios, dtype=torch.float32)
        reference = uniform_keep(space, budget)
        smallest = space.cost(space.channels_for([min(s.keep_ratios)] * len(space.groups)))
        if s.mask_infeasible and budget.excess(smallest, space.base) > 0:
            raise PruningError(
                f"the budget {budget.to_dict()} is below the smallest plan of keep ratios {s.keep_ratios} "
                f"({smallest.ratio(space.base)})"
            )
        static = layer_features(space, self.feature_batch)
        actions = len(s.keep_ratios)
        with torch.random.fork_rng():
            torch.manual_seed(s.seed)
            prior = -0.5 * ((ratios - reference) / s.prior_width) ** 2
            policy = DecisionNetwork(static.shape[1] + actions + 2, actions, s.hidden, prior)
        optimizer = torch.optim.Adam(policy.parameters(), lr=s.lr)
        generator = torch.Generator().manual_seed(s.seed)
        trial = _Trials(self, space, budget)
        baseline: float | None = None
        spread = 0.01**2  # moving average of the squared advantage, to scale it
        if s.seed_uniform:
            baseline = trial.evaluate([reference] * len(space.groups), 0, "uniform seed")
        pending: list[tuple[Tensor, Tensor, list[int], float]] = []
        for episode in range(1, s.episodes + 1):
            if s.max_seconds is not None and trial.seconds() > s.max_seconds:
                self.log(f"search time limit reached after {episode - 1} episodes")
                break
            chosen, steps, allowed = self._sample(policy, space, budget, static, ratios, reference, generator)
            reward = trial.evaluate([float(ratios[a]) for a in chosen], episode, "policy")
            pending.append((steps, allowed, chosen, reward))
            if len(pending) < s.batch and episode < s.episodes:
                continue
            baseline = pending[0][3] if baseline is None else baseline
            loss = torch.zeros(())
            for steps, allowed, chosen, reward in pending:
                # advantage over the moving-average baseline, in units of the rewards' recent spread
                advantage = (reward - baseline) / max(spread**0.5, 1e-3)
                logits, _ = policy(steps.unsqueeze(0))
                log_probs = F.log_softmax(logits[0].masked_fill(~allowed, _MASKED), dim=-1)
                taken = log_probs.gather(1, torch.tensor(chosen).unsqueeze(1)).sum()
                # entropy summed over the steps, as the log-probabilities are (masked actions add 0 * -1e9)
                entropy = -(log_probs.exp() * log_probs).sum()
                loss = loss + (-advantage * taken - s.entropy * entropy) / len(pending)
            for _, _, _, reward in pending:
                spread = s.baseline_decay * spread + (1 - s.baseline_decay) * (reward - baseline) ** 2
                baseline = s.baseline_decay * baseline + (1 - s.baseline_decay) * reward
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            pending.clear()
        greedy, _, _ = self._sample(policy, space, budget, static, ratios, reference, None)
        trial.evaluate([float(ratios[a]) for a in greedy], len(trial.history), "policy, most likely actions")
        best = trial.best or {
            "keep": [reference] * len(space.groups),
            "score": None,
            "episode": None,
            "source": "uniform",
        }
        info = {
            "search": s.to_dict(),
            "reference_uniform_keep": reference,
            "best_episode": best["episode"],
            "best_source": best["source"],
            "best_proxy_score": best["score"],
            "episodes_run": sum(1 for h in trial.history if h["source"] == "policy"),
            "plans_scored": len(trial.scored),
            "history": trial.history,
        }
        return space.make_plan(self.name, best["keep"], info)

    def _sample(
        self,
        policy: DecisionNetwork,
        space: PruningSpace,
        budget: Budget,
        static: Tensor,
        ratios: Tensor,
        reference: float,
        generator: torch.Generator | None,
    ) -> tuple[list[int], Tensor, Tensor]:
        """One plan from the policy (``generator`` None: the most likely action each step).

        Returns the actions, the step inputs and the allowed-action masks, which the update replays.
        """
        n, actions = len(space.groups), len(ratios)
        keep = [reference] * n
        chosen: list[int] = []
        rows, masks = [], []
        state = None
        previous = actions  # the start token
        with torch.no_grad():
            for t in range(n):
                # how the plan stands: decided layers as chosen, the rest at the uniform ratio
                slack = budget.slack(space.cost(space.channels_for(keep)), space.base)
                row = torch.cat(
                    [static[t], F.one_hot(torch.tensor(previous), actions + 1).float(),
                     torch.tensor([max(-1.0, min(1.0, slack))])]
                )  # fmt: skip
                allowed = self._allowed(space, budget, keep, t, ratios)
                logits, state = policy(row.view(1, 1, -1), state)
                probs = F.softmax(logits[0, 0].masked_fill(~allowed, _MASKED), dim=-1)
                if generator is None:
                    action = int(probs.argmax())
                else:
                    action = int(torch.multinomial(probs, 1, generator=generator))
                chosen.append(action)
                rows.append(row)
                masks.append(allowed)
                keep[t] = float(ratios[action])
                previous = action
        return chosen, torch.stack(rows), torch.stack(masks)

    def _allowed(self, space: PruningSpace, budget: Budget, keep: list[float], t: int, ratios: Tensor) -> Tensor:
        """Actions at step ``t`` after which the budget can still be met (the later layers at the smallest ratio).

        Every action is allowed when ``mask_infeasible`` is off; the budget is then the penalty's alone.
        """
        if not self.settings.mask_infeasible:
            return torch.ones(len(ratios), dtype=torch.bool)
        lowest = [float(ratios.min())] * (len(keep) - t - 1)
        fits = [
            budget.excess(space.cost(space.channels_for([*keep[:t], float(r), *lowest])), space.base) == 0.0
            for r in ratios
        ]
        return torch.tensor(fits, dtype=torch.bool)


class _Trials:
    """Scores plans (once each), computes their rewards, keeps the history and the best plan within budget."""

    def __init__(self, pruner: MemoryConstrainedPruner, space: PruningSpace, budget: Budget) -> None:
        self.pruner, self.space, self.budget = pruner, space, budget
        self.scored: dict[tuple[int, ...], float] = {}
        self.history: list[dict[str, Any]] = []
        self.best: dict[str, Any] | None = None
        self.started = time.monotonic()

    def seconds(self) -> float:
        return time.monotonic() - self.started

    def evaluate(self, keep: Sequence[float], episode: int, source: str) -> float:
        """The reward of the plan ``keep``: its score less the penalty for exceeding the budget."""
        space, penalty = self.space, self.pruner.settings.penalty
        plan = space.make_plan(self.pruner.name, keep)
        channels = tuple(plan.channels.values())
        cost = space.cost(list(channels))
        excess = self.budget.excess(cost, space.base)
        if channels not in self.scored:
            pruned = apply_plan(space.model, plan, space.example_input, space.ignored)
            self.scored[channels] = self.pruner.score_model(pruned)
        score = self.scored[channels]
        reward = score - penalty * excess
        ratio = cost.ratio(space.base)
        self.history.append({"episode": episode, "source": source, "reward": reward, "score": score,
                             "excess": excess, "params": ratio["params"], "macs": ratio["macs"],
                             "seconds": self.seconds()})  # fmt: skip
        mark = ""
        if excess == 0.0 and (self.best is None or score > self.best["score"]):
            self.best = {"keep": list(keep), "score": score, "episode": episode, "source": source}
            mark = " (best so far)"
        self.pruner.log(
            f"episode {episode} ({source}): score {score:.4f} params {ratio['params']:.3f} "
            f"MACs {ratio['macs']:.3f} reward {reward:.4f}{mark}"
        )
        return reward
