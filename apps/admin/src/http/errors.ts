import { HttpException, HttpStatus } from '@nestjs/common';

/** Every error answer is `{"error": CODE, "message": text}`; these build the fitting ones. */
export class ApiError extends HttpException {
  constructor(
    status: HttpStatus,
    readonly code: string,
    message: string,
  ) {
    super({ error: code, message }, status);
  }
}

export const badRequest = (message: string) =>
  new ApiError(HttpStatus.BAD_REQUEST, 'BAD_REQUEST', message);
export const notFound = (message: string) =>
  new ApiError(HttpStatus.NOT_FOUND, 'NOT_FOUND', message);
export const conflict = (message: string) => new ApiError(HttpStatus.CONFLICT, 'CONFLICT', message);
export const unprocessable = (message: string) =>
  new ApiError(HttpStatus.UNPROCESSABLE_ENTITY, 'UNPROCESSABLE_ENTITY', message);
export const unauthorized = (message: string) =>
  new ApiError(HttpStatus.UNAUTHORIZED, 'UNAUTHORIZED', message);
export const forbidden = (message: string) =>
  new ApiError(HttpStatus.FORBIDDEN, 'FORBIDDEN', message);
