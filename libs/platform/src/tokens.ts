/** Injection tokens shared by the apps' modules. */
export const CONFIG = Symbol('CONFIG');
export const LOGGER = Symbol('LOGGER');
export const DATABASE = Symbol('DATABASE');
export const KAFKA = Symbol('KAFKA');
export const TEMPORAL_CLIENT = Symbol('TEMPORAL_CLIENT');
