import { Controller, Get, Session } from '@nestjs/common';

/** The page-view counter of AWS's announcement: state kept in the session, the session kept in DynamoDB. */
@Controller('visits')
export class VisitsController {
  @Get()
  count(@Session() session: { views?: number }) {
    session.views = (session.views ?? 0) + 1;
    return { views: session.views };
  }
}
