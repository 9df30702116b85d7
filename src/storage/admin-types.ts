// Operator accounts for the web console (`parley admins …`) and their signed-in console sessions.
// Separate from QuickBlox users and tokens: an operator belongs to no application, and may be
// limited to some of them.

export interface Operator {
  id: number;
  email: string;
  /** The applications this operator may see and change; null means all of them. */
  appIds: number[] | null;
  createdAt: Date;
}

export interface NewOperator {
  email: string;
  password: string;
  appIds: number[] | null;
}

/** A signed-in console session. The store keeps only a digest of the cookie's token. */
export interface OperatorSession {
  tokenHash: string;
  operatorId: number;
  expiresAt: Date;
}

export class DuplicateOperatorError extends Error {
  constructor(readonly email: string) {
    super(`an operator with email "${email}" already exists`);
    this.name = 'DuplicateOperatorError';
  }
}

export interface OperatorStore {
  /** Emails are compared case-insensitively; throws DuplicateOperatorError when taken. */
  createOperator(input: NewOperator): Promise<Operator>;
  getOperator(id: number): Promise<Operator | null>;
  getOperatorByEmail(email: string): Promise<Operator | null>;
  listOperators(): Promise<Operator[]>;
  /** Also ends the operator's console sessions. */
  deleteOperator(id: number): Promise<boolean>;
  /** The operator when the password matches, else null (unknown email included). */
  verifyOperator(email: string, password: string): Promise<Operator | null>;

  createOperatorSession(session: OperatorSession): Promise<void>;
  /** The session, expired or not; the caller decides. */
  getOperatorSession(tokenHash: string): Promise<OperatorSession | null>;
  extendOperatorSession(tokenHash: string, expiresAt: Date): Promise<void>;
  deleteOperatorSession(tokenHash: string): Promise<boolean>;
  /** Drops sessions that expired before `now`. */
  purgeOperatorSessions(now: Date): Promise<void>;
}

/** Normalized form of an operator's email, as stored and looked up. */
export const operatorEmail = (email: string): string => email.trim().toLowerCase();
