import { type CartNode, DecisionTreeClassifier } from 'ml-cart'
import { FEATURE_NAMES } from '../weather-data.js'
import { type Classifier, digestOf, normalize, padClasses } from './classifier.js'

/** Options of {@link trainTree}. */
export interface TreeOptions {
  version: string
  /** Depth of the tree. Default 4. */
  maxDepth?: number
}

/** One step of a decision path, as DESIGN's well-known `decision_path` internal. */
export interface DecisionStep {
  /** Node number: the root is 0, the children of n are 2n+1 (left) and 2n+2 (right). */
  node: number
  feature: string
  threshold: number
  value: number
  went: 'left' | 'right'
}

/** Walks a CART tree for one row: the steps taken and the leaf reached. */
export function walkTree(root: CartNode, row: readonly number[]): { path: DecisionStep[]; leaf: CartNode } {
  const path: DecisionStep[] = []
  let node = root
  let id = 0
  while (node.left && node.right) {
    const value = row[node.splitColumn] as number
    const went = value < node.splitValue ? 'left' : 'right'
    path.push({
      node: id,
      feature: FEATURE_NAMES[node.splitColumn] ?? String(node.splitColumn),
      threshold: Math.round(node.splitValue * 1e4) / 1e4,
      value,
      went,
    })
    id = went === 'left' ? 2 * id + 1 : 2 * id + 2
    node = went === 'left' ? node.left : node.right
  }
  return { path, leaf: node }
}

/** A CART decision tree (`ml-cart`) on raw features; probabilities are the leaf's class shares. */
export function trainTree(features: number[][], labels: number[], o: TreeOptions): Classifier {
  const maxDepth = o.maxDepth ?? 4
  const model = new DecisionTreeClassifier({ maxDepth })
  model.train(features, labels)
  return {
    version: o.version,
    params: { algorithm: 'decision-tree', max_depth: maxDepth },
    digest: digestOf(model),
    prepare: (x) => [...x],
    // Leaf shares are sums of 1/n: normalized so they never exceed 1 by a rounding error.
    probabilities: (prepared) => normalize(padClasses(walkTree(model.root, prepared).leaf.distribution?.to1DArray() ?? [])),
    explain: (prepared) => ({ decision_path: walkTree(model.root, prepared).path }),
  }
}
