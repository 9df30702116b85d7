// @xmpp/client ships no type declarations; the tests use it loosely typed.
declare module '@xmpp/client';
declare module '@xmpp/debug';
