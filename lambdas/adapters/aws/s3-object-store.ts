import { DeleteObjectsCommand, GetObjectCommand, NoSuchKey, PutObjectCommand, type S3Client, paginateListObjectsV2 } from '@aws-sdk/client-s3';
import type { ObjectReader, ObjectStore, StoredObject } from '../../core/ports.js';

/** S3 DeleteObjects takes at most 1,000 keys per call. */
const DELETE_BATCH = 1000;

/** The object store on AWS: one bucket (the environment's data bucket). */
export class S3ObjectStore implements ObjectStore {
  public constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  public async list(prefix: string): Promise<StoredObject[]> {
    const out: StoredObject[] = [];
    for await (const page of paginateListObjectsV2({ client: this.s3 }, { Bucket: this.bucket, Prefix: prefix })) {
      for (const o of page.Contents ?? []) {
        if (o.Key && o.Size !== undefined && o.LastModified) out.push({ key: o.Key, size: o.Size, lastModified: o.LastModified });
      }
    }
    return out;
  }

  public async get(key: string): Promise<Uint8Array | undefined> {
    try {
      const result = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return await result.Body?.transformToByteArray();
    } catch (error) {
      if (error instanceof NoSuchKey) return undefined;
      throw error;
    }
  }

  public reader(object: StoredObject): ObjectReader {
    return {
      byteLength: object.size,
      slice: async (start, end) => {
        const last = (end ?? object.size) - 1;
        const result = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: object.key, Range: `bytes=${start}-${last}` }));
        const bytes = (await result.Body?.transformToByteArray()) ?? new Uint8Array();
        return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
      },
    };
  }

  public async put(key: string, body: Uint8Array | string): Promise<void> {
    await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body }));
  }

  public async delete(keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += DELETE_BATCH) {
      const batch = keys.slice(i, i + DELETE_BATCH);
      const result = await this.s3.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }));
      if (result.Errors?.length) throw new Error(`S3 refused to delete ${result.Errors.length} objects, e.g. ${result.Errors[0]?.Key}: ${result.Errors[0]?.Message}`);
    }
  }

  public location(prefix: string): string {
    return `s3://${this.bucket}/${prefix}`;
  }
}
