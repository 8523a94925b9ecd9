/** trustwatch's version, printed by `trustwatch version` and sent as the User-Agent. */
export const VERSION = "0.1.0";
