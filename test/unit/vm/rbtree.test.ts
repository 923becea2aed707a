import { describe, expect, it } from 'vitest';
import { RbTree, rb_check } from '../../../src/vm/rbtree.js';
import type { RbNode } from '../../../src/vm/rbtree.js';

class Node implements RbNode<Node> {
  rb_parent: Node | null = null;
  rb_left: Node | null = null;
  rb_right: Node | null = null;
  rb_red = false;
  constructor(readonly key: number) {}
}

function inorder(tree: RbTree<Node>): number[] {
  const out: number[] = [];
  const walk = (n: Node | null): void => {
    if (n === null) return;
    walk(n.rb_left);
    out.push(n.key);
    walk(n.rb_right);
  };
  walk(tree.root);
  return out;
}

/* Insert by key with a walk from the root, as the gap tree does. */
function insertKey(tree: RbTree<Node>, node: Node): void {
  let parent: Node | null = null;
  let left = false;
  for (let n = tree.root; n !== null; n = left ? n.rb_left : n.rb_right) {
    parent = n;
    left = node.key < n.key;
  }
  tree.insert_at(parent, left, node);
}

/* A small deterministic PRNG (mulberry32). */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('RbTree', () => {
  it('keeps order and red-black invariants under random inserts and removals', () => {
    const rand = prng(42);
    const tree = new RbTree<Node>();
    const live: Node[] = [];
    for (let i = 0; i < 4000; i++) {
      if (live.length === 0 || rand() < 0.6) {
        const node = new Node(Math.floor(rand() * 1e9));
        insertKey(tree, node);
        live.push(node);
      } else {
        const idx = Math.floor(rand() * live.length);
        tree.remove(live[idx]!);
        live.splice(idx, 1);
      }
      if (i % 97 === 0) {
        expect(rb_check(tree)).toBe(live.length);
        expect(inorder(tree)).toEqual(live.map((n) => n.key).sort((a, b) => a - b));
      }
    }
    while (live.length > 0) tree.remove(live.pop()!);
    expect(tree.root).toBeNull();
  });

  it('insert_after and insert_before place nodes next to a neighbour without comparing keys', () => {
    const tree = new RbTree<Node>();
    const order: Node[] = [];
    const rand = prng(7);
    for (let i = 0; i < 1000; i++) {
      const node = new Node(i);
      if (order.length === 0) {
        tree.insert_after(null, node);
        order.push(node);
        continue;
      }
      const at = Math.floor(rand() * (order.length + 1));
      if (rand() < 0.5) {
        tree.insert_after(at === 0 ? null : order[at - 1]!, node);
      } else {
        tree.insert_before(at === order.length ? null : order[at]!, node);
      }
      order.splice(at, 0, node);
    }
    expect(rb_check(tree)).toBe(1000);
    expect(inorder(tree)).toEqual(order.map((n) => n.key));
    expect(tree.first()).toBe(order[0]);
    expect(tree.last()).toBe(order[order.length - 1]);
  });

  it('stays logarithmic in height for sequential inserts', () => {
    const tree = new RbTree<Node>();
    let last: Node | null = null;
    for (let i = 0; i < 1 << 16; i++) {
      const node = new Node(i);
      tree.insert_after(last, node);
      last = node;
    }
    const height = (n: Node | null): number => (n === null ? 0 : 1 + Math.max(height(n.rb_left), height(n.rb_right)));
    expect(height(tree.root)).toBeLessThanOrEqual(2 * 17);
  });

  it('clears the links of a removed node', () => {
    const tree = new RbTree<Node>();
    const a = new Node(1);
    const b = new Node(2);
    insertKey(tree, a);
    insertKey(tree, b);
    tree.remove(a);
    expect([a.rb_parent, a.rb_left, a.rb_right]).toEqual([null, null, null]);
    expect(tree.root).toBe(b);
    expect(rb_check(tree)).toBe(1);
  });
});
