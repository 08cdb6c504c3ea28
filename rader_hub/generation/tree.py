"""The MCTS search tree: nodes, UCT selection and back-propagation."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from enum import Enum

from rader_hub.generation.prompts import theorem_step


class Action(str, Enum):
    ROOT = "ROOT"
    OST = "OST"  # one-step thought
    CRS = "CRS"  # complete remaining steps
    QG = "QG"  # generate a retrieval query (hypothetical theorem)
    RT = "RT"  # a retrieved theorem that self-reflection kept (its text is the summary)


@dataclass
class Judgement:
    """Self-reflection on one theorem retrieved for a QG node."""

    doc_id: str
    rank: int
    score: float
    verdict: str
    reason: str
    kept: bool
    kept_by_relaxation: bool = False


@dataclass(eq=False)
class Node:
    action: Action
    text: str
    depth: int
    parent: Node | None = None
    children: list[Node] = field(default_factory=list)
    expanded: bool = False
    terminal: bool = False
    answer: str | None = None
    reward: float | None = None  # set once a rollout ends here
    visits: int = 0
    value: float = 0.0
    # RT nodes: the theorem and the verdict that kept it.
    theorem_id: str | None = None
    verdict: str | None = None
    reason: str | None = None
    kept_by_relaxation: bool = False
    # QG nodes: every theorem retrieved for the query, kept or not.
    judgements: list[Judgement] = field(default_factory=list)
    # An expansion that produced no child gets one more, with the fall-back actions.
    fallback: bool = False

    def add_child(self, child: Node) -> Node:
        child.parent = self
        self.children.append(child)
        return child

    def path(self) -> list[Node]:
        """Nodes from the root to this node."""
        nodes: list[Node] = []
        node: Node | None = self
        while node is not None:
            nodes.append(node)
            node = node.parent
        return nodes[::-1]

    def steps(self) -> list[str]:
        """The partial solution up to and including this node, as every prompt and q_CoT see it.

        QG nodes are left out: a retrieval query is never part of a solution (the official code
        drops them from every context). A retrieved theorem appears as its summary. The root,
        the problem itself, is not a step.
        """
        return [
            theorem_step(node.text) if node.action is Action.RT else node.text for node in self.path()[1:] if node.action is not Action.QG
        ]

    def theorem_ids(self) -> frozenset[str]:
        """Theorems already retrieved onto this node's path (excluded from later retrievals)."""
        return frozenset(node.theorem_id for node in self.path() if node.action is Action.RT and node.theorem_id)

    def queries_on_path(self) -> int:
        """QG nodes on the path from the root to this node, this node included."""
        return sum(node.action is Action.QG for node in self.path())


def uct(child: Node, parent_visits: int, exploration_weight: float) -> float:
    """Q(s)/N(s) + c * sqrt(ln N(parent) / N(s)); unvisited children rank first (infinity)."""
    if child.visits == 0:
        return math.inf
    exploration = math.sqrt(math.log(parent_visits) / child.visits) if parent_visits > 0 else 0.0
    return child.value / child.visits + exploration_weight * exploration


def select_child(node: Node, exploration_weight: float, rng: random.Random) -> Node:
    """An unvisited child chosen at random (as the official search does), else the child with the
    highest UCT (ties go to the earliest child)."""
    unvisited = [child for child in node.children if child.visits == 0]
    if unvisited:
        return rng.choice(unvisited)
    best, best_score = node.children[0], -math.inf
    for child in node.children:
        score = uct(child, node.visits, exploration_weight)
        if score > best_score:
            best, best_score = child, score
    return best


def backpropagate(leaf: Node, reward: float) -> None:
    """Add the reward to Q and 1 to N of every node on the path to ``leaf``."""
    for node in leaf.path():
        node.visits += 1
        node.value += reward


def iter_nodes(root: Node):
    """Depth-first traversal."""
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(node.children))
