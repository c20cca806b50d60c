/** A pipeline stage made on first use and disposed with the pipeline. */
export interface Disposable {
  dispose(): Promise<void>;
}

/** A stage made on first use and disposed with its owner; a failed load is tried again by the next use. */
export class Lazy<T extends Disposable> {
  private value: Promise<T> | undefined;

  constructor(private readonly make: () => Promise<T>) {}

  get(): Promise<T> {
    this.value ??= this.make().catch((err: unknown) => {
      this.value = undefined;
      throw err;
    });
    return this.value;
  }

  async dispose(): Promise<void> {
    const value = this.value;
    this.value = undefined;
    await (await value?.catch(() => undefined))?.dispose();
  }
}
