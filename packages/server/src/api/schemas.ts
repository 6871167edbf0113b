import { Type, type Static, type TSchema } from '@sinclair/typebox';

/** Schema pieces the routes share. Objects reject unknown fields. */
export const Id = Type.String({ minLength: 1, maxLength: 64 });
export const Timestamp = Type.Integer({ minimum: 0, maximum: 253402300799 });
export const Url = Type.String({ format: 'uri', pattern: '^https?://', maxLength: 2048 });
/**
 * `T | null` as one `type: [t, "null"]` rather than `anyOf`: errors then read "must be string or
 * null", and form coercion turns an empty value into null.
 */
export const nullable = <T extends TSchema>(schema: T) => Type.Unsafe<Static<T> | null>({ ...schema, type: [schema.type, 'null'] });
export const NullableTimestamp = nullable(Timestamp);
/** One of a fixed list of strings, as a plain `enum` (a readable error, unlike a union of literals). */
export const oneOf = <T extends string>(values: readonly T[]) => Type.Unsafe<T>({ type: 'string', enum: [...values] });
export const strictObject: typeof Type.Object = ((properties: any, options?: any) =>
  Type.Object(properties, { additionalProperties: false, ...options })) as typeof Type.Object;

export const ListQuery = {
  limit: Type.Integer({ minimum: 1, maximum: 100, default: 10 }),
  starting_after: Type.Optional(Id),
  ending_before: Type.Optional(Id),
};

export const IdParams = strictObject({ id: Id });
