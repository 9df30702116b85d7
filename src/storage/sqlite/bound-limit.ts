// A bound LIMIT that SQLite does not read while planning. Since 3.4x SQLite plans `LIMIT ?` with the
// value bound at that time (as it would a literal), and so marks the statement to be prepared again
// whenever that parameter is bound anew: a statement run with `LIMIT ?` was parsed and planned on
// every run (~14 % of a Message.json page task on the read workers, more for a statement with
// many columns). `LIMIT +?` is the same to the statement that runs (the value must still be an
// integer) but not a parameter to the planner, so a prepared statement stays prepared. The plan is
// the one SQLite makes when it first prepares the statement, before anything is bound, as it was.
// Every `LIMIT ?` of the SQLite store is written `LIMIT +?` for this reason.

/** Use as `LIMIT ${BOUND_LIMIT}` with the limit bound in the place of the `?`. */
export const BOUND_LIMIT = '+?';
