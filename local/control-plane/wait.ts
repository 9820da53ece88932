/** The polling helper, shared with the provider (which owns it). */
export { waitFor } from "../../provider/util/wait";
