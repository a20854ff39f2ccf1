/**
 * The simulator's virtual clock: events in time order (ties by priority,
 * then scheduling order), async tasks interleaved by virtual time only, and
 * a run that fails loudly instead of hanging when a task waits on anything
 * outside the clock.
 */
import { describe, expect, it } from "vitest";
import { VirtualScheduler } from "../../dashboard/src/simulator/scheduler";

describe("VirtualScheduler", () => {
  it("fires events in time order, ties by priority then by scheduling order", async () => {
    const clock = new VirtualScheduler();
    const seen: string[] = [];
    const log = (name: string) => () => void seen.push(`${name}@${clock.now()}`);
    clock.at(30, log("c"));
    clock.at(10, log("a"));
    clock.at(20, log("b1"));
    clock.at(20, log("b2"));
    clock.at(20, log("b0"), 0);
    await clock.run();
    expect(seen).toEqual(["a@10", "b0@20", "b1@20", "b2@20", "c@30"]);
    expect(clock.now()).toBe(30);
  });

  it("never goes back in time: an event scheduled in the past fires now", async () => {
    const clock = new VirtualScheduler();
    const seen: number[] = [];
    clock.at(100, () => clock.at(50, () => void seen.push(clock.now())));
    await clock.run();
    expect(seen).toEqual([100]);
  });

  it("interleaves async tasks by virtual time, however long their await chains", async () => {
    const clock = new VirtualScheduler();
    const seen: string[] = [];
    const deep = async (n: number): Promise<void> => {
      if (n > 0) await deep(n - 1);
    };
    clock.spawn(async () => {
      await clock.sleep(300);
      await deep(50);
      seen.push(`slow@${clock.now()}`);
    });
    clock.spawn(async () => {
      for (const ms of [100, 100]) {
        await deep(20);
        await clock.sleep(ms);
        seen.push(`fast@${clock.now()}`);
      }
    });
    const value = clock.after(250, () => "answer").then((v) => void seen.push(`${v}@${clock.now()}`));
    clock.spawn(() => value);
    await clock.run();
    expect(seen).toEqual(["fast@100", "fast@200", "answer@250", "slow@300"]);
  });

  it("rejects when a task waits on something outside the clock", async () => {
    const clock = new VirtualScheduler();
    clock.spawn(() => new Promise<void>(() => {}));
    await expect(clock.run()).rejects.toThrow(/simulation stuck/);
  });

  it("rethrows a task's exception", async () => {
    const clock = new VirtualScheduler();
    clock.spawn(async () => {
      await clock.sleep(10);
      throw new Error("boom");
    });
    await expect(clock.run()).rejects.toThrow("boom");
  });
});
