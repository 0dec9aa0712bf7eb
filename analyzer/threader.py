"""Conversation threading: JWZ's algorithm as notmuch applies it.

Which messages form one thread (the *partition*) follows notmuch exactly:
a message belongs with every id it names in References or In-Reply-To, and
threads that meet through such an id, even a missing ("ghost") one, are
one thread. Threads are never split because the headers disagree on the
reply *tree*; they are only ever merged.

Inside a thread the reply tree follows JWZ, with notmuch's choice of parent:

* a message's own headers name its parent: the In-Reply-To id when that
  header holds exactly one id (notmuch trusts a sane In-Reply-To over
  References, whose order some clients scramble) unless that id is missing
  from the mailbox and from the References, which then name a better one
  (list archives mangle In-Reply-To ids); otherwise the last References
  id, otherwise the last In-Reply-To id. Ids without "@" (``<yes>``) join
  threads, as in notmuch, but are never anyone's parent;
* a message or ghost whose own headers name no parent takes the id just
  before it in someone else's References (JWZ's chain linking; the earliest
  message's References win, so the result does not depend on input order);
* reference loops are cut where the evidence is weakest (a References
  chain link before a message's own header; then the earliest message),
  and a message never refers to itself;
* ghosts that end up with no children are dropped from the tree (they still
  joined their threads together); other ghosts are kept, so a reply whose
  parent never arrived keeps the parent's id as its thread id, and keeps it
  when the parent arrives later;
* a part of a thread that is joined only through a shared reference, with no
  parent of its own in it, hangs under the thread's root (link
  ``"shared-reference"``).

Finally, and only where safe, whole threads are merged by subject (link
``"subject"``): a thread whose root subject carries a reply/forward prefix
joins the most recent earlier thread with the same base subject, if the
base is not boilerplate (:func:`analyzer.subjects.is_boilerplate_subject`)
and the thread starts within ``subject_window`` of that thread's latest
message. Threads without any dated message are never merged by subject.

Dates without a time zone are read as UTC.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Literal

from analyzer.subjects import is_boilerplate_key, normalize_subject, strip_reply_prefixes

Link = Literal["root", "in-reply-to", "references", "subject", "shared-reference"]

DEFAULT_SUBJECT_WINDOW = timedelta(days=30)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# Strength of a parent edge, used to choose which edge of a loop to cut.
_CHAIN = 0  # from another message's References order
_OWN = 1  # from the message's own header


@dataclass(frozen=True)
class ThreadInput:
    """What threading needs from one message.

    ``in_reply_to`` and ``references`` are already parsed id lists, without
    angle brackets (:func:`analyzer.msgids.parse_in_reply_to`,
    :func:`analyzer.msgids.parse_id_list`).

    >>> ThreadInput("b@x", in_reply_to=["a@x"]).in_reply_to
    ['a@x']
    """

    message_id: str
    in_reply_to: Sequence[str] = ()
    references: Sequence[str] = ()
    subject: str = ""
    date: datetime | None = None


@dataclass(frozen=True)
class Node:
    """One container of a thread tree: a message, or a ghost (a missing message).

    ``link`` says how the node came under ``parent_id``: ``"in-reply-to"`` or
    ``"references"`` (the header of this message that named the parent; for
    a ghost, or a message naming no parent, ``"references"`` means another
    message's References put it there), ``"subject"`` (whole thread merged by
    subject), ``"shared-reference"`` (same thread through a shared id, no
    parent of its own here), ``"root"`` (the thread's root).

    >>> Node("a@x", False, "root", None, "Hello", None, ()).is_ghost
    False
    """

    message_id: str
    is_ghost: bool
    link: Link
    parent_id: str | None
    subject: str
    date: datetime | None
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Thread:
    """One conversation: its reply tree and its members.

    ``thread_id`` is the Message-ID of the root container (a ghost's id when
    the root message is missing). ``message_ids`` holds the real messages
    only; ``ghost_ids`` the missing messages kept in the tree.

    >>> [t.thread_id for t in build_threads([ThreadInput("a@x")])]
    ['a@x']
    """

    thread_id: str
    root: Node
    message_ids: frozenset[str]
    ghost_ids: frozenset[str]

    def walk(self) -> Iterator[tuple[int, Node]]:
        """Every node with its depth (root = 0), depth-first, children in order.

        >>> t = build_threads([ThreadInput("a@x"), ThreadInput("b@x", ["a@x"])])[0]
        >>> [(d, n.message_id, n.link) for d, n in t.walk()]
        [(0, 'a@x', 'root'), (1, 'b@x', 'in-reply-to')]
        """
        stack: list[tuple[int, Node]] = [(0, self.root)]
        while stack:
            depth, node = stack.pop()
            yield depth, node
            stack.extend((depth + 1, c) for c in reversed(node.children))

    def node(self, message_id: str) -> Node | None:
        """The container of ``message_id`` in this thread, if any.

        >>> t = build_threads([ThreadInput("b@x", ["a@x"])])[0]
        >>> t.node("b@x").link, t.node("a@x").is_ghost, t.node("z@x")
        ('in-reply-to', True, None)
        """
        return next((n for _, n in self.walk() if n.message_id == message_id), None)

    def pruned(self) -> Node:
        """The tree as JWZ displays it: ghosts elided, their children promoted.

        A ghost root stays only when it holds two or more children (it then
        stands for the missing start of the conversation).

        >>> t = build_threads([ThreadInput("b@x", ["a@x"])])[0]
        >>> t.thread_id, t.pruned().message_id
        ('a@x', 'b@x')
        """
        return _prune(self.root)


def _prune(root: Node) -> Node:
    # Post-order without recursion: long reply chains must not hit the
    # interpreter's recursion limit.
    replaced: dict[int, list[Node]] = {}
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        if not done:
            stack.append((node, True))
            stack.extend((c, False) for c in node.children)
            continue
        kids = [k for c in node.children for k in replaced.pop(id(c))]
        if node.is_ghost and node is not root:
            # A ghost joined by subject or shared reference passes that
            # link on: it is what relates its children to their new parent.
            if node.link in ("subject", "shared-reference"):
                kids = [replace(k, link=node.link) for k in kids]
            replaced[id(node)] = kids
            continue
        rebuilt = replace(node, children=tuple(replace(k, parent_id=node.message_id) for k in kids))
        replaced[id(node)] = [rebuilt]
    (top,) = replaced.pop(id(root))
    if top.is_ghost and len(top.children) == 1:
        return replace(top.children[0], parent_id=None, link="root")
    return top


def _utc(date: datetime | None) -> datetime | None:
    if date is None or date.tzinfo is not None:
        return date
    return date.replace(tzinfo=UTC)


def _find(parent: list[int], i: int) -> int:
    root = i
    while parent[root] != root:
        root = parent[root]
    while parent[i] != root:  # path compression keeps later finds O(α(n))
        parent[i], i = root, parent[i]
    return root


def _union(parent: list[int], a: int, b: int) -> None:
    ra, rb = _find(parent, a), _find(parent, b)
    if ra != rb:
        parent[max(ra, rb)] = min(ra, rb)


class _Graph:
    """Containers indexed by integers, so the passes below stay linear."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.ids: list[str] = []
        self.real: list[bool] = []
        self.subject: list[str] = []
        self.date: list[datetime | None] = []
        # Own References / In-Reply-To (cleaned) of the first copy naming any id.
        self.refs: list[list[int]] = []
        self.irt: list[list[int]] = []
        self.uf: list[int] = []

    def node(self, ident: str) -> int:
        i = self.index.get(ident)
        if i is None:
            i = len(self.ids)
            self.index[ident] = i
            self.ids.append(ident)
            self.real.append(False)
            self.subject.append("")
            self.date.append(None)
            self.refs.append([])
            self.irt.append([])
            self.uf.append(i)
        return i

    def add(self, msg: ThreadInput) -> None:
        own = msg.message_id
        i = self.node(own)
        first_copy = not self.real[i]
        self.real[i] = True
        if first_copy or not self.subject[i]:
            self.subject[i] = msg.subject
        date = _utc(msg.date)
        if date is not None and (self.date[i] is None or first_copy):
            self.date[i] = date
        refs = _clean(msg.references, own)
        irt = _clean(msg.in_reply_to, own)
        uf = self.uf
        ref_ix = [self.node(r) for r in refs]
        irt_ix = [self.node(r) for r in irt]
        for j in ref_ix:
            _union(uf, i, j)
        for j in irt_ix:
            _union(uf, i, j)
        if not (self.refs[i] or self.irt[i]):  # else an earlier copy named the parent
            # Ids without "@" ("<yes>" from a git send-email prompt, "<1>")
            # are not Message-IDs: they may join threads, as in notmuch, but
            # never stand as anyone's parent.
            self.refs[i] = _valid(ref_ix, refs)
            self.irt[i] = _valid(irt_ix, irt)

    def claim(self, i: int) -> tuple[int, Link]:
        """The parent a message's own headers name (-1 if none), and which header."""
        irt, refs = self.irt[i], self.refs[i]
        # notmuch trusts a single In-Reply-To id over References' order, but
        # not when it names a message nobody has and References offer a
        # known one (mangled ids, e.g. by list archives, are common there).
        if len(irt) == 1 and (self.real[irt[0]] or not refs or irt[0] in refs):
            return irt[0], "in-reply-to"
        if refs:
            return refs[-1], "references"
        if irt:
            return irt[-1], "in-reply-to"
        return -1, "root"


def _valid(indexes: list[int], ids: list[str]) -> list[int]:
    """The ``indexes`` of ``ids`` that can be Message-IDs (they hold an "@")."""
    if all("@" in i for i in ids):
        return indexes
    return [j for j, i in zip(indexes, ids, strict=True) if "@" in i]


def _clean(ids: Sequence[str], own: str) -> list[str]:
    """``ids`` without blanks, self-references and repeats (first kept)."""
    if len(ids) == 1:  # the common case, kept cheap
        return [ids[0]] if ids[0] and ids[0] != own else []
    seen: set[str] = {own}
    out: list[str] = []
    for ident in ids:
        if ident and ident not in seen:
            seen.add(ident)
            out.append(ident)
    return out


def _stamps(g: _Graph) -> list[float]:
    """Each container's date as a timestamp; undated ones (and ghosts) sort last."""
    return [math.inf if d is None else d.timestamp() for d in g.date]


def _parents(g: _Graph) -> tuple[list[int], list[Link]]:
    """Every container's parent (-1 for roots) and how it was found."""
    n = len(g.ids)
    claims = [g.claim(i) if g.real[i] else (-1, "root") for i in range(n)]
    parent = [p for p, _ in claims]
    link: list[Link] = [k for _, k in claims]
    strength = [_OWN if p >= 0 else _CHAIN for p in parent]
    stamp = _stamps(g)
    order = sorted((i for i in range(n) if g.real[i]), key=lambda i: (stamp[i], g.ids[i]))
    for i in order:
        for a, b in pairwise(g.refs[i]):
            if parent[b] < 0:
                parent[b], link[b] = a, "references"
    _break_loops(g, parent, strength, stamp)
    return parent, link


def _break_loops(g: _Graph, parent: list[int], strength: list[int], stamp: list[float]) -> None:
    # Each container has at most one parent, so every loop is a simple
    # cycle found by walking up; colouring visits each container once.
    state = [0] * len(parent)  # 0 new, 1 on the current walk, 2 settled
    for start in range(len(parent)):
        path: list[int] = []
        i = start
        while i >= 0 and state[i] == 0:
            state[i] = 1
            path.append(i)
            i = parent[i]
        if i >= 0 and state[i] == 1:
            cycle = path[path.index(i) :]
            cut = min(
                cycle,
                key=lambda c: (strength[c], not g.real[c], stamp[c], g.ids[c]),
            )
            parent[cut] = -1
        for p in path:
            state[p] = 2


@dataclass
class _Forest:
    """The threaded containers, before they become :class:`Thread` objects."""

    g: _Graph
    parent: list[int]
    link: list[Link]
    children: list[list[int]]
    alive: list[bool]
    first: list[float]  # earliest timestamp under each container (inf if undated)

    def roots(self) -> list[int]:
        """Thread roots, oldest first (undated last), ties by id."""
        ids, first = self.g.ids, self.first
        roots = [i for i, p in enumerate(self.parent) if p < 0 and self.alive[i]]
        roots.sort(key=lambda i: (first[i], ids[i]))
        return roots


def _thread(msgs: Iterable[ThreadInput], subject_window: timedelta | None) -> _Forest:
    """Every pass of the module docstring, in order, on integer-indexed containers."""
    g = _Graph()
    for msg in msgs:
        g.add(msg)
    n = len(g.ids)
    parent, link = _parents(g)

    children: list[list[int]] = [[] for _ in range(n)]
    for i, p in enumerate(parent):
        if p >= 0:
            children[p].append(i)
    # Ghosts without children only served to join threads: drop them
    # bottom-up (a ghost whose only children were such ghosts goes too).
    alive = [True] * n
    pending = [i for i in range(n) if not g.real[i] and not children[i]]
    live_children = [len(c) for c in children]
    while pending:
        i = pending.pop()
        alive[i] = False
        p = parent[i]
        if p >= 0:
            live_children[p] -= 1
            if live_children[p] == 0 and not g.real[p]:
                pending.append(p)
    for i in range(n):
        if len(children[i]) != live_children[i]:
            children[i] = [c for c in children[i] if alive[c]]

    # Date span under every container, bottom-up over a top-down order (no
    # recursion). Timestamps, because float comparisons are cheap.
    topo = [i for i in range(n) if alive[i] and parent[i] < 0]
    k = 0
    while k < len(topo):
        topo.extend(children[topo[k]])
        k += 1
    first = [math.inf if d is None else d.timestamp() for d in g.date]
    last = [-math.inf if d is None else d.timestamp() for d in g.date]
    for i in reversed(topo):
        p = parent[i]
        if p >= 0:
            first[p] = min(first[p], first[i])
            last[p] = max(last[p], last[i])

    # Top-level containers per component; the earliest one is the root.
    tops: dict[int, list[int]] = {}
    for i in topo:
        if parent[i] < 0:
            tops.setdefault(_find(g.uf, i), []).append(i)
    comp_roots: list[int] = []
    for members in tops.values():
        members.sort(key=lambda i: (first[i], g.ids[i]))
        head = members[0]
        comp_roots.append(head)
        for other in members[1:]:
            parent[other], link[other] = head, "shared-reference"
            children[head].append(other)
            first[head] = min(first[head], first[other])
            last[head] = max(last[head], last[other])

    if subject_window is not None:
        merge = _SubjectMerge(g, parent, link, children, first, last)
        merge.run(comp_roots, subject_window.total_seconds())
    return _Forest(g, parent, link, children, alive, first)


def build_threads(
    msgs: Iterable[ThreadInput], *, subject_window: timedelta | None = DEFAULT_SUBJECT_WINDOW
) -> list[Thread]:
    """Group messages into threads and rebuild each thread's reply tree.

    ``subject_window=None`` turns subject merging off. Duplicates of one
    Message-ID are one message: every copy's ids join threads, and the first
    copy naming a parent decides the tree. Threads come out oldest first
    (undated last), ties by thread id; children likewise.

    >>> msgs = [
    ...     ThreadInput("1@x", subject="Radiation contestée", date=datetime(2024, 3, 1)),
    ...     ThreadInput("2@x", ["1@x"], ["1@x"], "RE : Radiation contestée", datetime(2024, 3, 2)),
    ...     ThreadInput("3@x", subject="TR : Radiation contestée", date=datetime(2024, 3, 4)),
    ... ]
    >>> [(d, n.message_id, n.link) for d, n in build_threads(msgs)[0].walk()]
    [(0, '1@x', 'root'), (1, '2@x', 'in-reply-to'), (1, '3@x', 'subject')]
    """
    return _assemble(_thread(msgs, subject_window))


def _root_subject(g: _Graph, root: int, children: list[list[int]]) -> str:
    """The subject that speaks for a thread: its root's, or a ghost root's earliest child's."""
    i = root
    while not g.real[i]:
        kids = [c for c in children[i] if g.real[c]] or children[i]
        if not kids:
            return ""
        i = min(kids, key=lambda c: (g.date[c] is None, g.date[c] or _EPOCH, g.ids[c]))
    return g.subject[i]


@dataclass
class _SubjectMerge:
    """Merging of whole threads by subject (see the module docstring)."""

    g: _Graph
    parent: list[int]
    link: list[Link]
    children: list[list[int]]
    first: list[float]
    last: list[float]

    def run(self, roots: list[int], window: float) -> None:
        g, first, last = self.g, self.first, self.last
        dated = sorted(
            (r for r in roots if first[r] < math.inf), key=lambda r: (first[r], g.ids[r])
        )
        # Per base subject: the thread that replies join, and its latest date.
        groups: dict[str, tuple[int, float]] = {}
        # A mailbox repeats its subjects (notifications, long threads):
        # each distinct one is normalised once.
        keys: dict[str, tuple[str, bool]] = {}
        for r in dated:
            subject = _root_subject(g, r, self.children)
            known = keys.get(subject)
            if known is None:
                key = normalize_subject(subject)
                known = keys[subject] = ("" if is_boilerplate_key(key) else key,
                                         strip_reply_prefixes(subject)[1])
            key, had_prefix = known
            if not key:
                continue
            group = groups.get(key)
            if had_prefix and group is not None and first[r] - group[1] <= window:
                anchor, latest = group
                self.parent[r], self.link[r] = anchor, "subject"
                self.children[anchor].append(r)
                groups[key] = (anchor, max(latest, last[r]))
            else:
                groups[key] = (r, last[r])


def _assemble(forest: _Forest) -> list[Thread]:
    g, parent, link, children, first = (
        forest.g,
        forest.parent,
        forest.link,
        forest.children,
        forest.first,
    )
    ids, real, subject, date = g.ids, g.real, g.subject, g.date
    nodes: dict[int, Node] = {}
    threads: list[Thread] = []
    for r in forest.roots():
        order = [r]
        k = 0
        while k < len(order):
            kids = children[order[k]]
            if len(kids) > 1:
                kids.sort(key=lambda i: (first[i], ids[i]))
            order.extend(kids)
            k += 1
        for i in reversed(order):
            p = parent[i]
            nodes[i] = Node(
                message_id=ids[i],
                is_ghost=not real[i],
                link=link[i] if p >= 0 else "root",
                parent_id=ids[p] if p >= 0 else None,
                subject=subject[i],
                date=date[i],
                children=tuple([nodes.pop(c) for c in children[i]]),
            )
        threads.append(
            Thread(
                thread_id=ids[r],
                root=nodes.pop(r),
                message_ids=frozenset([ids[i] for i in order if real[i]]),
                ghost_ids=frozenset([ids[i] for i in order if not real[i]]),
            )
        )
    return threads


def thread_messages(
    msgs: Iterable[ThreadInput], *, subject_window: timedelta | None = DEFAULT_SUBJECT_WINDOW
) -> dict[str, str]:
    """Map every input Message-ID to its thread id (see :func:`build_threads`).

    >>> thread_messages([ThreadInput("b@x", ["a@x"]), ThreadInput("c@x", [], ["a@x", "b@x"])])
    {'b@x': 'a@x', 'c@x': 'a@x'}
    """
    forest = _thread(msgs, subject_window)
    ids, real, children = forest.g.ids, forest.g.real, forest.children
    top = list(range(len(ids)))  # each container's thread root, filled top-down
    order = forest.roots()
    k = 0
    while k < len(order):
        i = order[k]
        for c in children[i]:
            top[c] = top[i]
        order.extend(children[i])
        k += 1
    return {ids[i]: ids[top[i]] for i in range(len(ids)) if real[i]}
