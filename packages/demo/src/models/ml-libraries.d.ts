// The parts of the pure-JS learners the demo uses (the packages ship no usable types).

declare module 'ml-logistic-regression' {
  import type { Matrix } from 'ml-matrix'

  /** One-vs-rest logistic regression by batch gradient descent; no intercept of its own. */
  class LogisticRegression {
    constructor(options?: { numSteps?: number; learningRate?: number })
    readonly numberClasses: number
    /** One per class; class k is trained with target 0 for rows of class k, 1 for the rest. */
    readonly classifiers: { testScores(features: Matrix): number[]; weights: Matrix }[]
    train(features: Matrix, target: Matrix): void
    predict(features: Matrix): number[]
    toJSON(): unknown
  }
  export default LogisticRegression
}

declare module 'ml-cart' {
  /** A node of a trained tree: a split (left when `row[splitColumn] < splitValue`) or a leaf. */
  export interface CartNode {
    splitColumn: number
    splitValue: number
    left?: CartNode
    right?: CartNode
    /** A leaf's class shares (a 1-row matrix; columns up to the largest class seen there). */
    distribution?: { to1DArray(): number[] }
  }
  export class DecisionTreeClassifier {
    constructor(options?: { maxDepth?: number; minNumSamples?: number; gainFunction?: 'gini' })
    root: CartNode
    train(features: number[][], labels: number[]): void
    predict(features: number[][]): number[]
    toJSON(): unknown
  }
}

declare module 'ml-random-forest' {
  export class RandomForestClassifier {
    constructor(options: {
      nEstimators: number
      maxFeatures: number
      replacement: boolean
      seed: number
      noOOB: boolean
      useSampleBagging?: boolean
      treeOptions?: { maxDepth?: number; minNumSamples?: number }
    })
    train(features: number[][], labels: number[]): void
    predict(features: number[][]): number[]
    /** Every tree's predicted class, one row per input row. */
    predictionValues(features: number[][]): { getRow(i: number): number[] }
    toJSON(): unknown
  }
}
