import { SetMetadata } from '@nestjs/common';

/**
 * Marks a controller or handler as reachable without a token. Authentication is deny by
 * default: a guard lets a route through unauthenticated only when it carries this mark, so a
 * new route is protected unless someone decides otherwise in code review.
 */
export const PUBLIC_ROUTE = 'settlement:public-route';
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(PUBLIC_ROUTE, true);
