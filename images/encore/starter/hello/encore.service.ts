import { Service } from 'encore.dev/service';

/** The `hello` service: every API in this folder belongs to it. */
export default new Service('hello');
