/*
 * File: vm/rbtree.ts
 * Purpose: an intrusive red-black tree (GNU Mach's kern/rbtree), used for the map's
 *          address tree (hdr.tree) and its gap tree (hdr.gap_tree).
 *
 * "Intrusive": the links live in the nodes themselves (rb_parent, rb_left, rb_right,
 * rb_red), so a map entry is its own tree node and costs no extra allocation. The tree
 * never compares keys itself. Callers walk down from `root` with their own comparison
 * and then link the node where the walk ended (`insert_at`), or place it next to a
 * known neighbour (`insert_after`, `insert_before`), exactly as gnumach's
 * rbtree_lookup_slot / rbtree_insert_slot split the work. All operations are O(log n).
 */

/** The links a node carries. */
export interface RbNode<N> {
  rb_parent: N | null;
  rb_left: N | null;
  rb_right: N | null;
  rb_red: boolean;
}

export class RbTree<N extends RbNode<N>> {
  root: N | null = null;

  /** The leftmost node, or null if the tree is empty. */
  first(): N | null {
    return this.root === null ? null : leftmost(this.root);
  }

  /** The rightmost node, or null if the tree is empty. */
  last(): N | null {
    let node = this.root;
    if (node === null) return null;
    while (node.rb_right !== null) node = node.rb_right;
    return node;
  }

  /**
   * Link `node` as a child of `parent` (left if `left`), or as the root when `parent`
   * is null (the tree must then be empty), and rebalance.
   * Conditions: that child slot is empty and the position respects the caller's order.
   */
  insert_at(parent: N | null, left: boolean, node: N): void {
    node.rb_parent = parent;
    node.rb_left = null;
    node.rb_right = null;
    node.rb_red = true;
    if (parent === null) this.root = node;
    else if (left) parent.rb_left = node;
    else parent.rb_right = node;
    this.insert_fixup(node);
  }

  /** Link `node` immediately after `pred` in order (`pred` null: as the first node). */
  insert_after(pred: N | null, node: N): void {
    if (pred === null) {
      const first = this.first();
      this.insert_at(first, true, node);
    } else if (pred.rb_right === null) {
      this.insert_at(pred, false, node);
    } else {
      this.insert_at(leftmost(pred.rb_right), true, node);
    }
  }

  /** Link `node` immediately before `succ` in order (`succ` null: as the last node). */
  insert_before(succ: N | null, node: N): void {
    if (succ === null) {
      this.insert_at(this.last(), false, node);
    } else if (succ.rb_left === null) {
      this.insert_at(succ, true, node);
    } else {
      let pred = succ.rb_left;
      while (pred.rb_right !== null) pred = pred.rb_right;
      this.insert_at(pred, false, node);
    }
  }

  /** Unlink `node` and rebalance. Its links are cleared. */
  remove(node: N): void {
    let x: N | null;
    let xParent: N | null;
    let removedRed = node.rb_red;

    if (node.rb_left === null) {
      x = node.rb_right;
      xParent = node.rb_parent;
      this.transplant(node, x);
    } else if (node.rb_right === null) {
      x = node.rb_left;
      xParent = node.rb_parent;
      this.transplant(node, x);
    } else {
      const y = leftmost(node.rb_right);
      removedRed = y.rb_red;
      x = y.rb_right;
      if (y.rb_parent === node) {
        xParent = y;
      } else {
        xParent = y.rb_parent;
        this.transplant(y, y.rb_right);
        y.rb_right = node.rb_right;
        y.rb_right.rb_parent = y;
      }
      this.transplant(node, y);
      y.rb_left = node.rb_left;
      y.rb_left.rb_parent = y;
      y.rb_red = node.rb_red;
    }
    if (!removedRed) this.remove_fixup(x, xParent);
    node.rb_parent = node.rb_left = node.rb_right = null;
    node.rb_red = false;
  }

  private transplant(u: N, v: N | null): void {
    const p = u.rb_parent;
    if (p === null) this.root = v;
    else if (u === p.rb_left) p.rb_left = v;
    else p.rb_right = v;
    if (v !== null) v.rb_parent = p;
  }

  private rotate_left(x: N): void {
    const y = x.rb_right!;
    x.rb_right = y.rb_left;
    if (y.rb_left !== null) y.rb_left.rb_parent = x;
    this.transplant(x, y);
    y.rb_left = x;
    x.rb_parent = y;
  }

  private rotate_right(x: N): void {
    const y = x.rb_left!;
    x.rb_left = y.rb_right;
    if (y.rb_right !== null) y.rb_right.rb_parent = x;
    this.transplant(x, y);
    y.rb_right = x;
    x.rb_parent = y;
  }

  private insert_fixup(z: N): void {
    let p: N | null;
    while ((p = z.rb_parent) !== null && p.rb_red) {
      const g = p.rb_parent!; // a red node is never the root
      if (p === g.rb_left) {
        const u = g.rb_right;
        if (u !== null && u.rb_red) {
          p.rb_red = false;
          u.rb_red = false;
          g.rb_red = true;
          z = g;
        } else {
          if (z === p.rb_right) {
            z = p;
            this.rotate_left(z);
            p = z.rb_parent!;
          }
          p.rb_red = false;
          g.rb_red = true;
          this.rotate_right(g);
        }
      } else {
        const u = g.rb_left;
        if (u !== null && u.rb_red) {
          p.rb_red = false;
          u.rb_red = false;
          g.rb_red = true;
          z = g;
        } else {
          if (z === p.rb_left) {
            z = p;
            this.rotate_right(z);
            p = z.rb_parent!;
          }
          p.rb_red = false;
          g.rb_red = true;
          this.rotate_left(g);
        }
      }
    }
    this.root!.rb_red = false;
  }

  /* x replaced a black node and is "doubly black"; parent is its parent (x may be null). */
  private remove_fixup(x: N | null, parent: N | null): void {
    while (x !== this.root && (x === null || !x.rb_red)) {
      const p = parent!;
      if (x === p.rb_left) {
        let w = p.rb_right!; // black height >= 1 on this side, so the sibling exists
        if (w.rb_red) {
          w.rb_red = false;
          p.rb_red = true;
          this.rotate_left(p);
          w = p.rb_right!;
        }
        if (!isRed(w.rb_left) && !isRed(w.rb_right)) {
          w.rb_red = true;
          x = p;
          parent = p.rb_parent;
        } else {
          if (!isRed(w.rb_right)) {
            w.rb_left!.rb_red = false;
            w.rb_red = true;
            this.rotate_right(w);
            w = p.rb_right!;
          }
          w.rb_red = p.rb_red;
          p.rb_red = false;
          if (w.rb_right !== null) w.rb_right.rb_red = false;
          this.rotate_left(p);
          x = this.root;
          parent = null;
        }
      } else {
        let w = p.rb_left!;
        if (w.rb_red) {
          w.rb_red = false;
          p.rb_red = true;
          this.rotate_right(p);
          w = p.rb_left!;
        }
        if (!isRed(w.rb_left) && !isRed(w.rb_right)) {
          w.rb_red = true;
          x = p;
          parent = p.rb_parent;
        } else {
          if (!isRed(w.rb_left)) {
            w.rb_right!.rb_red = false;
            w.rb_red = true;
            this.rotate_left(w);
            w = p.rb_left!;
          }
          w.rb_red = p.rb_red;
          p.rb_red = false;
          if (w.rb_left !== null) w.rb_left.rb_red = false;
          this.rotate_right(p);
          x = this.root;
          parent = null;
        }
      }
    }
    if (x !== null) x.rb_red = false;
  }
}

function isRed<N extends RbNode<N>>(node: N | null): boolean {
  return node !== null && node.rb_red;
}

function leftmost<N extends RbNode<N>>(node: N): N {
  while (node.rb_left !== null) node = node.rb_left;
  return node;
}

/**
 * Check the red-black invariants below `root`: parent links, no red node with a red
 * child, equal black height on every path. Returns the number of nodes.
 * Throws an Error naming the first violation. For tests and vm_map_check.
 */
export function rb_check<N extends RbNode<N>>(tree: RbTree<N>): number {
  let count = 0;
  const walk = (node: N | null, parent: N | null): number => {
    if (node === null) return 1;
    count++;
    if (node.rb_parent !== parent) throw new Error('rbtree: bad parent link');
    if (node.rb_red && (isRed(node.rb_left) || isRed(node.rb_right))) throw new Error('rbtree: red node with red child');
    const l = walk(node.rb_left, node);
    const r = walk(node.rb_right, node);
    if (l !== r) throw new Error('rbtree: unequal black height');
    return l + (node.rb_red ? 0 : 1);
  };
  if (tree.root !== null && tree.root.rb_red) throw new Error('rbtree: red root');
  walk(tree.root, null);
  return count;
}
