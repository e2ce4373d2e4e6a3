// Mutation runs (jest.mutation.config.js): each mutant reruns the properties that cover it, so
// fewer random cases per property; the unit tier keeps fast-check's default of 100.
require('fast-check').configureGlobal({ numRuns: 25 });
