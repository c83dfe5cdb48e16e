import assert from 'node:assert/strict'
import { test } from 'node:test'
import { addCounts, BucketCounts, quantile, subtractCounts } from '../../src/figures/histogram.js'

const bounds = [1, 2, 4]

test('BucketCounts puts an observation in the first bucket whose bound it does not pass; above all, in the last', () => {
  const b = new BucketCounts(bounds)
  for (const s of [0, 1, 1.5, 2, 3, 4, 5, 100]) b.observe(s)
  assert.deepEqual(b.counts, [2, 2, 2, 2])
})

test('quantile interpolates inside its bucket, as histogram_quantile does', () => {
  assert.equal(quantile(0.5, [0, 0, 0, 0], bounds), null)
  assert.equal(quantile(0.5, [10, 0, 0, 0], bounds), 0.5)
  assert.equal(quantile(0.5, [0, 10, 0, 0], bounds), 1.5)
  assert.equal(quantile(0.25, [5, 5, 0, 0], bounds), 0.5)
  assert.equal(quantile(0.75, [5, 5, 0, 0], bounds), 1.5)
  assert.equal(quantile(0.99, [99, 0, 0, 1], bounds), 1, 'the 99th of 100 is in the first bucket')
  assert.equal(quantile(1, [99, 0, 0, 1], bounds), 4, 'the overflow answers the highest bound')
})

test('counts of two nodes add up and two samples subtract, slot by slot', () => {
  assert.deepEqual(addCounts([1, 2, 3], [10, 20, 30]), [11, 22, 33])
  assert.deepEqual(subtractCounts([11, 22, 33], [1, 2, 3]), [10, 20, 30])
  // The merged p50 is that of the union, not the mean of each node's.
  assert.equal(quantile(0.5, addCounts([10, 0, 0, 0], [0, 0, 30, 0]), bounds), 2 + 2 * (20 - 10) / 30)
})
