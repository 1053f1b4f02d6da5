/** What the bot read against what it drew: counts since the start. */
export declare const readings: { reads: number; fieldsRead: number; fieldsRight: number };
