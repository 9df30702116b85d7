// Bounds on what standard clients put into open rooms (each checked before it is used or stored).
export const ROOM_NAME_MAX = 64;
export const NICK_MAX = 64;
export const SUBJECT_MAX = 1024;
export const REASON_MAX = 512;
export const PASSWORD_MAX = 64;
/** A dialog name is at most 200 characters in QuickBlox. */
export const TITLE_MAX = 200;
export const DESCRIPTION_MAX = 500;
/** Open rooms a user may own at once (created and not destroyed). */
export const ROOMS_PER_USER = 20;
/** Occupants of a room at most (the owner form's maxusers can lower it). */
export const OCCUPANTS_MAX = 200;
/** Users with an affiliation (owner, admin, member, outcast) in one room. */
export const AFFILIATIONS_MAX = 500;
/** Items in one muc#admin request. */
export const ADMIN_ITEMS_MAX = 20;
/** Messages a room sends on join at most (the owner form's historylength). */
export const HISTORY_MAX = 100;
/** Open rooms listed by disco#items on the service. */
export const LISTED_MAX = 200;
