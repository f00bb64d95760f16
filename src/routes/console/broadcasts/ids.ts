/** A broadcast id in a console path: a UUID, so anything else is the not-found page rather than a database error. */
export const ID = '{[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}}';
