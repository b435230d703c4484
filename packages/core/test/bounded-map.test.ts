import { expect, test } from "vitest";
import { BoundedMap } from "../src/bounded-map";

test("a new key past the bound evicts the oldest inserted entry", () => {
  const map = new BoundedMap<string, number>(3);
  for (const [i, k] of ["a", "b", "c", "d", "e"].entries()) map.set(k, i);
  expect([...map]).toEqual([["c", 2], ["d", 3], ["e", 4]]);
  expect(map.size).toBe(3);
});

test("overwriting a key keeps its place and evicts nothing", () => {
  const map = new BoundedMap<string, number>(2);
  map.set("a", 1).set("b", 2).set("a", 3);
  expect([...map]).toEqual([["a", 3], ["b", 2]]);
  map.set("c", 4);
  expect([...map]).toEqual([["b", 2], ["c", 4]]);
});

test("deleted entries free their room", () => {
  const map = new BoundedMap<number, string>(2);
  map.set(1, "x").set(2, "y");
  map.delete(1);
  map.set(3, "z");
  expect([...map.keys()]).toEqual([2, 3]);
});

test.each([0, -1, 1.5, Number.NaN])("a bound of %s is refused", (bound) => {
  expect(() => new BoundedMap(bound)).toThrow(RangeError);
});
