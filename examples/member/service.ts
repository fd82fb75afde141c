// The member service of the seed article: ServiceUser.UserInfo, and the function UserReply
// registered under the service path "ServiceUserFn". Keys are the Go field names, because
// Go rpcx's default codec (msgpack) ignores json tags and inlines the embedded model.User.
import type { RequestContext } from '@rpcx/server';

export interface Args {
  Uid: number;
}

/** model.User. int64 fields arrive as number when they fit in 2^53, as bigint beyond. */
export interface User {
  UID: number | bigint;
  AddTime: number | bigint;
  UserType: number;
  Uface: string;
  UserName: string;
}

/** Go's `Reply struct { model.User }`: the embedded struct's fields sit at the top level. */
export type Reply = User;

export interface ServiceUserApi {
  UserInfo(args: Args): Reply;
}

export class ServiceUser implements ServiceUserApi {
  UserInfo(args: Args, _ctx?: RequestContext): Reply {
    return { UID: args.Uid, AddTime: 14990093, UserType: 2, Uface: 'http://image.xxxx.xxx/t.gif', UserName: 'Joke' };
  }
}

export function UserReply(args: Args): Reply {
  return { UID: args.Uid, AddTime: 10000999, UserType: 3, Uface: 'http://image.xxxx.xxx/reply.gif', UserName: 'Reply' };
}
