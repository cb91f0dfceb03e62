import pkg from '../../package.json' with { type: 'json' };

/** The product version, answered by `GET /version` and `inference-tables --version`. */
export const PRODUCT_VERSION: string = pkg.version;
